//! The `integration_user` and `guest_user` roots: who they are, and what their profile and
//! effective permission sets grant.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::{Builder, model_field, str_v};
use crate::facts::runtime;
use crate::facts::value::{Entry, Fact, Field, Object, Value, normalize_label};
use crate::guide::{self, INTEGRATION_PERMISSION_SET_LABEL};
use crate::snapshot::model::{self, Origin};
use crate::snapshot::model::{PermissionSetField, SiteField, UserField};

impl<'a> Builder<'a> {
    pub(super) fn user_by_id(&self, id: &str) -> Option<&'a model::User> {
        self.snap.users.items().iter().find(|u| u.id == id)
    }

    pub(super) fn user_by_name(&self, name: &str) -> Option<&'a model::User> {
        self.snap
            .users
            .items()
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(name))
    }

    fn assignments_of(
        &self,
        user_id: &'a str,
    ) -> impl Iterator<Item = &'a model::PermissionSetAssignment> + 'a {
        self.snap
            .permission_set_assignments
            .items()
            .iter()
            .filter(move |a| a.assignee_id == user_id)
    }

    fn user_is_guest(u: &model::User) -> bool {
        u.user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
    }

    /// Effective permission sets of a user: the profile's own set plus active, unexpired
    /// assignments. `Err` when the data to decide is missing.
    fn sets_of(&self, user: &model::User) -> Result<Vec<&'a model::PermissionSet>, String> {
        self.snap
            .permission_set_assignments
            .available()
            .map_err(|r| format!("permission set assignments: {r}"))?;
        self.snap
            .permission_sets
            .available()
            .map_err(|r| format!("permission sets: {r}"))?;
        let mut out: Vec<&model::PermissionSet> = Vec::new();
        if let Some(pid) = &user.profile_id
            && let Some(ps) = self.profile_set_by_profile.get(pid.as_str())
        {
            out.push(ps);
        }
        for a in self.assignments_of(&user.id) {
            if a.is_active == Some(false) {
                continue;
            }
            if let Some(exp) = &a.expiration_date
                && let Ok(date) =
                    NaiveDate::parse_from_str(exp.get(..10).unwrap_or(exp), "%Y-%m-%d")
                && date < self.settings.today
            {
                continue;
            }
            match self.sets_by_id.get(a.permission_set_id.as_str()) {
                Some(ps) if !out.iter().any(|p| p.id == ps.id) => out.push(ps),
                Some(_) => {}
                // What an unknown set grants cannot be told.
                None => {
                    return Err(format!(
                        "permission set {} assigned to `{}` is not in the snapshot",
                        a.permission_set_id, user.username
                    ));
                }
            }
        }
        Ok(out)
    }

    /// A user as an object with the facts rules read about it.
    fn user_object(&self, user: &model::User) -> Object {
        let origin = user.source.clone().or(Some(Origin::Record {
            object: "User".to_string(),
            id: Some(user.id.clone()),
        }));
        let mut o = Object::new(Some(user.username.clone()), origin.clone());
        o.put(
            "id",
            Field::value(Value::Str(user.id.clone()), origin.clone()),
        );
        o.put(
            "username",
            Field::value(Value::Str(user.username.clone()), origin.clone()),
        );
        super::put_opt(&mut o, user, UserField::name, str_v(user.name.as_ref()));
        super::put_opt(
            &mut o,
            user,
            UserField::is_active,
            user.is_active.map(Value::Bool),
        );
        o.put("profile_name", self.profile_name(user));
        match self.sets_of(user) {
            Err(reason) => {
                for key in [
                    "permission_set_labels",
                    "permission_set_names",
                    "api_enabled",
                    "call_coaching_user",
                    "voice_call_read",
                    "access_names",
                ] {
                    o.put(key, Field::not_collected(reason.clone()));
                }
            }
            Ok(sets) => self.put_grants(&mut o, user, &sets, origin.as_ref()),
        }
        o
    }

    /// What the user's effective sets grant.
    fn put_grants(
        &self,
        o: &mut Object,
        user: &model::User,
        sets: &[&model::PermissionSet],
        origin: Option<&Origin>,
    ) {
        // Without the profile's own permission set, a "no" from the assigned sets proves
        // nothing: the profile may grant it.
        let profile_gap = if sets.iter().any(|p| p.is_owned_by_profile == Some(true)) {
            None
        } else {
            Some(match &user.profile_name {
                Some(name) => format!(
                    "the permissions of profile `{name}` (its profile-owned permission set) are not in the snapshot"
                ),
                None => {
                    "the user's profile and its permissions are not in the snapshot".to_string()
                }
            })
        };
        let unless_gap = |f: Field| match (&f.fact, &profile_gap) {
            (Fact::Value(Value::Bool(false)), Some(gap)) => Field::not_collected(gap.clone()),
            _ => f,
        };
        let assigned: Vec<&&model::PermissionSet> = sets
            .iter()
            .filter(|p| p.is_owned_by_profile != Some(true))
            .collect();
        o.put(
            "permission_set_labels",
            Field::value(
                Value::strs(assigned.iter().filter_map(|p| p.label.clone())),
                origin.cloned(),
            ),
        );
        o.put(
            "permission_set_names",
            Field::value(
                Value::strs(assigned.iter().flat_map(|p| {
                    let mut names = Vec::new();
                    if let Some(n) = &p.name {
                        names.push(n.clone());
                        if let Some(ns) = p.namespace.as_ref().filter(|ns| !ns.is_empty()) {
                            names.push(format!("{ns}__{n}"));
                        }
                    }
                    names
                })),
                origin.cloned(),
            ),
        );
        o.put(
            "api_enabled",
            unless_gap(any_flag(
                sets,
                PermissionSetField::api_enabled,
                |p| p.api_enabled,
                origin,
            )),
        );
        o.put(
            "call_coaching_user",
            unless_gap(any_flag(
                sets,
                PermissionSetField::call_coaching_user,
                |p| p.call_coaching_user,
                origin,
            )),
        );
        let voice = self.voice_call_read(sets, origin);
        // A missing VoiceCall object is proof on its own.
        let voice = if self.snap.org.voice_call_object_available == Some(false) {
            voice
        } else {
            unless_gap(voice)
        };
        o.put("voice_call_read", voice);
        let mut access: Vec<String> = Vec::new();
        if let Some(p) = &user.profile_name {
            access.push(p.clone());
        }
        for p in &assigned {
            access.extend(p.label.clone());
            access.extend(p.name.clone());
        }
        // Without the profile's name, a list that lacks it proves nothing.
        let access_names = match user.not_collected.get(&UserField::profile_name) {
            Some(reason) if user.profile_name.is_none() => {
                Field::not_collected(format!("the user's profile: {reason}"))
            }
            _ => Field::value(Value::strs(access), origin.cloned()),
        };
        o.put("access_names", access_names);
    }

    fn voice_call_read(&self, sets: &[&model::PermissionSet], origin: Option<&Origin>) -> Field {
        if self.snap.org.voice_call_object_available == Some(false) {
            return Field::value(Value::Bool(false), origin.cloned()).with_note(
                "the VoiceCall object is not available in this org, or not visible to the auditing user (describe returned 404)",
            );
        }
        if let Err(reason) = self.snap.object_permissions.available() {
            return Field::not_collected(format!("object permissions: {reason}"));
        }
        for ps in sets {
            for op in self
                .object_perms_by_parent
                .get(ps.id.as_str())
                .into_iter()
                .flatten()
            {
                if op.object.eq_ignore_ascii_case("VoiceCall") && op.read {
                    return Field::value(
                        Value::Bool(true),
                        op.source.clone().or(Some(Origin::Record {
                            object: "ObjectPermissions".to_string(),
                            id: None,
                        })),
                    )
                    .with_note(format!("Read on VoiceCall granted by `{}`", shown(ps)));
                }
            }
        }
        Field::value(Value::Bool(false), origin.cloned())
            .with_note("no profile or assigned permission set grants Read on VoiceCall")
    }

    /// The integration user: the configured username, or the single active non-guest user
    /// holding the integration permission set.
    pub(super) fn integration_user(&self) -> Entry {
        self.integration_user
            .get_or_init(|| self.find_integration_user())
            .clone()
    }

    /// The integration user's `Id`, when the user was found and has one.
    pub(super) fn integration_user_id(&self) -> Option<String> {
        match self.integration_user() {
            Entry::Found { object, .. } => object.get("id").and_then(|f| match &f.fact {
                Fact::Value(v) => v.as_str().map(String::from),
                _ => None,
            }),
            _ => None,
        }
    }

    fn find_integration_user(&self) -> Entry {
        let users = match self.snap.users.available() {
            Ok(users) => users,
            Err(reason) => return Entry::not_collected(format!("users: {reason}")),
        };
        // The configured user, else the one the snapshot was collected for.
        let collected_for = self.snap.source.integration_user.as_ref();
        if let Some(wanted) = self.settings.integration_user.as_ref().or(collected_for) {
            if let Some(u) = self.user_by_name(wanted) {
                return Entry::found(self.user_object(u), u.source.clone());
            }
            // A live collection holds only the users it looked for: a miss proves absence only
            // for the user it was collected for.
            let looked_for = collected_for.is_some_and(|c| c.eq_ignore_ascii_case(wanted));
            if self.users_partial() && !looked_for {
                return Entry::not_collected(format!(
                    "`{wanted}` is not among the users in this snapshot, which was collected for {}; collect again with --integration-user {wanted}",
                    collected_for
                        .map_or("the detected candidates".to_string(), |c| format!("`{c}`"))
                ));
            }
            return Entry::absent(
                format!("no user with username `{wanted}` in the org"),
                self.snap.users.source.clone(),
            );
        }
        // Detect: active, non-guest users holding the integration permission set.
        if let Err(reason) = self.snap.permission_sets.available() {
            return Entry::not_collected(format!(
                "no --integration-user given and permission sets were not collected to detect it: {reason}"
            ));
        }
        if let Err(reason) = self.snap.permission_set_assignments.available() {
            return Entry::not_collected(format!(
                "no --integration-user given and assignments were not collected to detect it: {reason}"
            ));
        }
        let wanted_label = normalize_label(INTEGRATION_PERMISSION_SET_LABEL);
        let names: Vec<String> = self
            .settings
            .integration_permission_set_names
            .iter()
            .map(|n| n.to_lowercase())
            .collect();
        // The sets that make a user a candidate, then one pass over the assignments.
        let wanted_sets: HashSet<&str> = self
            .snap
            .permission_sets
            .items()
            .iter()
            .filter(|p| {
                p.label.as_deref().map(normalize_label).as_deref() == Some(wanted_label.as_str())
                    || p.name
                        .as_ref()
                        .is_some_and(|n| names.contains(&n.to_lowercase()))
            })
            .map(|p| p.id.as_str())
            .collect();
        let holders: HashSet<&str> = self
            .snap
            .permission_set_assignments
            .items()
            .iter()
            .filter(|a| {
                a.is_active != Some(false) && wanted_sets.contains(a.permission_set_id.as_str())
            })
            .map(|a| a.assignee_id.as_str())
            .collect();
        let mut candidates: Vec<&model::User> = users
            .iter()
            .filter(|u| holders.contains(u.id.as_str()))
            .filter(|u| u.is_active != Some(false) && !Self::user_is_guest(u))
            .collect();
        candidates.sort_by(|a, b| a.username.cmp(&b.username));
        let at = self.snap.permission_set_assignments.source.clone();
        match candidates.as_slice() {
            [one] => Entry::found(self.user_object(one), one.source.clone()).with_note(format!(
                "detected: the only active user holding `{INTEGRATION_PERMISSION_SET_LABEL}`"
            )),
            [] => Entry::absent(
                format!(
                    "no --integration-user given and no active, non-guest user holds `{INTEGRATION_PERMISSION_SET_LABEL}`"
                ),
                at,
            ),
            many => {
                let list: Vec<&str> = many.iter().map(|u| u.username.as_str()).collect();
                Entry::absent(
                    format!(
                        "{} candidates hold `{INTEGRATION_PERMISSION_SET_LABEL}`: {}; pass --integration-user to pick one",
                        many.len(),
                        list.join(", ")
                    ),
                    at,
                )
            }
        }
    }

    /// The site `VoiceConnector`'s guest user.
    pub(super) fn guest_user(&self) -> Entry {
        let sites = match self.snap.sites.available() {
            Ok(s) => s,
            Err(reason) => return Entry::not_collected(format!("sites: {reason}")),
        };
        let Some(site) = sites.iter().find(|s| s.full_name == guide::SITE) else {
            return Entry::absent(
                format!("there is no site `{}`", guide::SITE),
                self.snap.sites.source.clone(),
            );
        };
        let Some(guest_id) = &site.guest_user_id else {
            if let Some(reason) = site.not_collected.get(&SiteField::guest_user_id) {
                return Entry::not_collected(reason.clone());
            }
            // A metadata directory marks it not collected itself, saying why.
            return Entry::not_collected("the site's guest user Id was not collected");
        };
        match self.snap.users.available() {
            Err(reason) => Entry::not_collected(format!("users: {reason}")),
            Ok(_) => match self.user_by_id(guest_id) {
                Some(u) => Entry::found(self.user_object(u), u.source.clone()),
                None => Entry::not_collected(format!(
                    "the guest user {guest_id} is not among the collected users"
                )),
            },
        }
    }

    /// A site's user reference as the user's username, activity and profile.
    pub(super) fn user_facts(&self, u: &model::User) -> (Field, Field) {
        (
            model_field(u, UserField::is_active, u.is_active.map(Value::Bool)),
            self.profile_name(u),
        )
    }

    /// The user's profile name (the English name of a standard profile, whatever language the
    /// auditing user reads it in), noting the name as shown when it differs.
    fn profile_name(&self, u: &model::User) -> Field {
        let field = model_field(u, UserField::profile_name, str_v(u.profile_name.as_ref()));
        let profile = u.profile_id.as_ref().and_then(|id| {
            self.snap
                .profiles
                .items()
                .iter()
                .find(|p| p.id.as_ref() == Some(id))
        });
        match profile {
            Some(model::Profile {
                display_name: Some(shown),
                api_name,
                ..
            }) => field.with_note(format!(
                "shown as `{shown}` to the auditing user (API name `{}`)",
                api_name.as_deref().unwrap_or("?")
            )),
            _ => field,
        }
    }
}

/// A permission set as messages name it.
fn shown(ps: &model::PermissionSet) -> String {
    ps.label
        .clone()
        .or(ps.name.clone())
        .unwrap_or(ps.id.clone())
}

/// True if any set grants the flag; unknown if none does and some could not be read.
fn any_flag(
    sets: &[&model::PermissionSet],
    key: PermissionSetField,
    get: impl Fn(&model::PermissionSet) -> Option<bool>,
    origin: Option<&Origin>,
) -> Field {
    let mut missing: Option<String> = None;
    for ps in sets {
        match get(ps) {
            Some(true) => {
                let kind = if ps.is_owned_by_profile == Some(true) {
                    "the profile"
                } else {
                    "permission set"
                };
                return Field::value(Value::Bool(true), ps.source.clone().or(origin.cloned()))
                    .with_note(format!("granted by {kind} `{}`", shown(ps)));
            }
            Some(false) => {}
            None => {
                if let Some(reason) = ps.not_collected.get(&key) {
                    missing = Some(reason.clone());
                }
            }
        }
    }
    match missing {
        Some(reason) => Field::not_collected(reason),
        None => Field::value(Value::Bool(false), origin.cloned())
            .with_note("neither the profile nor any assigned permission set grants it"),
    }
}

impl Builder<'_> {
    /// The `integration_user_login` root: `UserLogin` flags and the recent ECI-app logins.
    pub(super) fn integration_user_login(&self) -> Entry {
        let (id, username, user_origin) = match self.integration_user() {
            Entry::Found { object, origin, .. } => (
                self.integration_user_id(),
                object.name.clone().unwrap_or_default(),
                origin,
            ),
            Entry::Absent { detail, origin } => {
                return Entry::Absent { detail, origin };
            }
            Entry::NotCollected { reason } => return Entry::not_collected(reason),
        };
        let Some(id) = id else {
            return Entry::not_collected("the integration user's Id is not known");
        };
        let rt = &self.snap.runtime;
        let mut o = Object::new(Some(username), user_origin.clone());
        match rt.user_logins.available() {
            Err(reason) => {
                for k in ["is_frozen", "is_password_locked"] {
                    o.put(k, Field::not_collected(format!("UserLogin: {reason}")));
                }
            }
            Ok(rows) => {
                let origin = Some(Origin::Record {
                    object: "UserLogin".to_string(),
                    id: None,
                });
                match rows.iter().find(|r| r.user_id == id) {
                    None => {
                        for k in ["is_frozen", "is_password_locked"] {
                            o.put(
                                k,
                                Field::absent_because(
                                    "no UserLogin row for the integration user",
                                    origin.clone(),
                                ),
                            );
                        }
                    }
                    Some(row) => {
                        for (k, v) in [
                            ("is_frozen", row.is_frozen),
                            ("is_password_locked", row.is_password_locked),
                        ] {
                            o.put(
                                k,
                                v.map_or_else(
                                    || Field::absent(origin.clone()),
                                    |b| Field::value(Value::Bool(b), origin.clone()),
                                ),
                            );
                        }
                    }
                }
            }
        }
        self.put_logins(&mut o, &id);
        Entry::found(o, user_origin)
    }

    /// `last_eci_login_status` and `eci_login_failures` from `LoginHistory`.
    fn put_logins(&self, o: &mut Object, user_id: &str) {
        let rt = &self.snap.runtime;
        let keys = ["last_eci_login_status", "eci_login_failures"];
        let not_collected = |o: &mut Object, reason: String| {
            for k in keys {
                o.put(k, Field::not_collected(reason.clone()));
            }
        };
        let rows = match rt.login_history.available() {
            Ok(rows) => rows,
            Err(reason) => return not_collected(o, format!("LoginHistory: {reason}")),
        };
        // Without either permission Salesforce returns only the auditor's own logins.
        match runtime::auditor_holds_any(
            self.snap,
            &[|p| p.manage_users, |p| p.monitor_login_history],
        ) {
            Err(reason) => {
                return not_collected(
                    o,
                    format!(
                        "the auditing user's permissions were not read, so the login history cannot be told complete: {reason}"
                    ),
                );
            }
            Ok(false) => {
                return not_collected(
                    o,
                    "the auditing user lacks Manage Users and Monitor Login History, so Salesforce returns only the auditor's own logins; audit as a user who has one of them".to_string(),
                );
            }
            Ok(true) => {}
        }
        let names = runtime::eci_app_names(self.snap);
        let mut eci: Vec<&model::LoginHistoryEntry> = rows
            .iter()
            .filter(|r| r.user_id == user_id)
            .filter(|r| runtime::is_eci_application(&names, r.application.as_deref()))
            .collect();
        eci.sort_by_key(|r| std::cmp::Reverse(runtime::parse_time(&r.login_time)));
        let origin = rt.login_history.source.clone().or(Some(Origin::Record {
            object: "LoginHistory".to_string(),
            id: None,
        }));
        let failed = |r: &&&model::LoginHistoryEntry| {
            !r.status
                .as_deref()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case("success"))
        };
        let failures: Vec<&&model::LoginHistoryEntry> = eci.iter().filter(failed).collect();
        let count = i64::try_from(failures.len()).unwrap_or(i64::MAX);
        let summary = match failures.first() {
            None => format!(
                "{} logins through the ECI app in the last 30 days, none failed",
                eci.len()
            ),
            Some(last) => format!(
                "{} of the last {} logins through the ECI app failed; the last failure, at {}: \"{}\"",
                failures.len(),
                eci.len(),
                last.login_time,
                last.status.as_deref().unwrap_or("(no status)")
            ),
        };
        match eci.first() {
            None => o.put(
                "last_eci_login_status",
                Field::absent_because(
                    "no login through the ECI app in the last 30 days",
                    origin.clone(),
                ),
            ),
            Some(newest) => o.put(
                "last_eci_login_status",
                match &newest.status {
                    Some(s) => Field::value(Value::Str(s.clone()), origin.clone()),
                    None => Field::absent(origin.clone()),
                }
                .with_note(summary.clone()),
            ),
        }
        o.put(
            "eci_login_failures",
            Field::value(Value::Int(count), origin).with_note(summary),
        );
    }
}
