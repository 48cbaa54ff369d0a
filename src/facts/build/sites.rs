//! The `sites` root: the site's settings, and the users it names (contact, default record
//! owner) resolved against the users collected.

use super::{Builder, model_field, put_opt, str_v};
use crate::facts::value::{Fact, Field, Object, Value};
use crate::snapshot::model;
use crate::snapshot::model::SiteField;

impl Builder<'_> {
    /// Resolves a site's user reference (a username from metadata, or a user Id from SOQL).
    fn site_user(&self, site: &model::Site, key: SiteField, value: Option<&String>) -> Field {
        let base = model_field(site, key, str_v(value));
        let Fact::Value(Value::Str(reference)) = &base.fact else {
            return base;
        };
        let at = base.origin.clone();
        // The user as an object of its username, whether it is active and its profile.
        let user = |username: &str, (is_active, profile_name): (Field, Field)| {
            let mut o = Object::new(Some(username.to_string()), at.clone());
            o.put(
                "username",
                Field::value(Value::Str(username.to_string()), at.clone()),
            );
            o.put("is_active", is_active);
            o.put("profile_name", profile_name);
            Field::value(Value::Object(o), at.clone())
        };
        let twice = |f: Field| (f.clone(), f);
        if let Err(reason) = self.snap.users.available() {
            // Only the reference itself is known.
            return user(
                reference,
                twice(Field::not_collected(format!("users: {reason}"))),
            );
        }
        match self
            .user_by_id(reference)
            .or_else(|| self.user_by_name(reference))
        {
            // The user record proves whether it is active and its profile.
            Some(u) => user(&u.username, self.user_facts(u)),
            None if self.users_partial() => user(
                reference,
                twice(Field::not_collected(format!(
                    "user `{reference}` is not among the users in this snapshot"
                ))),
            ),
            None => user(
                reference,
                twice(Field::absent_because(
                    format!("no user `{reference}` in the org"),
                    at.clone(),
                )),
            ),
        }
    }

    pub(super) fn site(&self, r: &model::Site) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        put_opt(&mut o, r, SiteField::label, str_v(r.label.as_ref()));
        let active = match (r.active, &r.status) {
            (Some(a), _) => model_field(r, SiteField::active, Some(Value::Bool(a))),
            (None, Some(status)) => Field::value(
                Value::Bool(status.trim().eq_ignore_ascii_case("active")),
                super::located(r, SiteField::status),
            )
            .with_note(format!("Site.Status is `{status}`")),
            (None, None) => model_field(r, SiteField::active, None),
        };
        o.put("active", active);
        put_opt(
            &mut o,
            r,
            SiteField::index_page,
            str_v(r.index_page.as_ref()),
        );
        put_opt(
            &mut o,
            r,
            SiteField::clickjack_protection_level,
            str_v(r.clickjack_protection_level.as_ref()),
        );
        o.put(
            "site_admin",
            self.site_user(r, SiteField::site_admin, r.site_admin.as_ref()),
        );
        o.put(
            "default_record_owner",
            self.site_user(
                r,
                SiteField::guest_record_default_owner,
                r.guest_record_default_owner.as_ref(),
            ),
        );
        put_opt(&mut o, r, SiteField::subdomain, str_v(r.subdomain.as_ref()));
        o
    }
}
