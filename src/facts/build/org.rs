//! The `org`, `config` and `aircall` roots: organization facts, the audit's inputs, My Domain
//! and the callback URL derived from it, installed packages, Sites domains, the Aircall check.

use super::{Builder, put_opt, str_v};
use crate::facts::value::{Entry, Fact, Field, Object, Value};
use crate::guide;
use crate::snapshot::model::Origin;
use crate::snapshot::model::{AircallCheckField, OrgField, SiteField};
use crate::urls::url_origin;

impl Builder<'_> {
    pub(super) fn config(&self) -> Entry {
        let s = self.settings;
        let mut o = Object::new(None, None);
        let input = |key: &str| {
            Some(Origin::Input {
                key: key.to_string(),
            })
        };
        let opt_str = |v: &Option<String>, key: &str| match v {
            Some(v) => Field::value(Value::Str(v.clone()), input(key)),
            None => Field::absent(None),
        };
        o.put(
            "refresh_token_days",
            match s.refresh_token_days {
                Some(n) => Field::value(Value::Int(i64::from(n)), input("refresh_token_days")),
                None => Field::absent(None),
            },
        );
        // The API ID of a live Aircall check travels in the snapshot, so that an offline
        // check of a collected snapshot reproduces the live results.
        let snapshot_api_id = self.snap.aircall.as_ref().and_then(|a| a.api_id.clone());
        o.put(
            "aircall_api_id",
            opt_str(
                &s.aircall_api_id.clone().or(snapshot_api_id),
                "AIRCALL_API_ID",
            ),
        );
        o.put(
            "voice_connector_namespace",
            opt_str(&s.voice_connector_namespace, "voice_connector_namespace"),
        );
        o.put(
            "eci_access_labels",
            Field::value(
                Value::strs(s.eci_access_labels.clone()),
                input("eci_access_labels"),
            ),
        );
        let names_or_absent = |names: &Vec<String>, key: &str| {
            if names.is_empty() {
                Field::absent(None)
            } else {
                Field::value(Value::strs(names.clone()), input(key))
            }
        };
        o.put(
            "integration_permission_set_names",
            names_or_absent(
                &s.integration_permission_set_names,
                "integration_permission_set_names",
            ),
        );
        o.put(
            "voice_connector_permission_set_names",
            names_or_absent(
                &s.voice_connector_permission_set_names,
                "voice_connector_permission_set_names",
            ),
        );
        Entry::found(o, None)
    }

    /// The My Domain origin: `--my-domain` first, then the snapshot's, then the instance URL.
    fn my_domain(&self) -> Field {
        let org = &self.snap.org;
        let candidates = [
            (
                self.settings.my_domain.as_ref(),
                Some(Origin::Input {
                    key: "my_domain".to_string(),
                }),
            ),
            (
                org.my_domain.as_ref(),
                super::located(org, OrgField::my_domain),
            ),
            (
                org.instance_url.as_ref(),
                super::located(org, OrgField::instance_url),
            ),
        ];
        for (value, origin) in candidates {
            if let Some(v) = value {
                return match url_origin(v) {
                    Some(origin_url) => Field::value(Value::Str(origin_url), origin),
                    None => Field::value(Value::Str(v.clone()), origin)
                        .with_note("not a URL with a scheme and host"),
                };
            }
        }
        if let Some(reason) = org.not_collected.get(&OrgField::my_domain) {
            return Field::not_collected(reason.clone());
        }
        // A metadata directory says why itself (see the loader's `not_collected`).
        Field::not_collected("the snapshot has no My Domain or instance URL; pass --my-domain")
    }

    pub(super) fn org(&self) -> Entry {
        let org = &self.snap.org;
        let mut o = Object::new(org.name.clone(), org.source.clone());
        put_opt(&mut o, org, OrgField::id, str_v(org.id.as_ref()));
        put_opt(&mut o, org, OrgField::name, str_v(org.name.as_ref()));
        put_opt(&mut o, org, OrgField::edition, str_v(org.edition.as_ref()));
        put_opt(
            &mut o,
            org,
            OrgField::eci_enabled,
            org.eci_enabled.map(Value::Bool),
        );
        put_opt(
            &mut o,
            org,
            OrgField::voice_call_object_available,
            org.voice_call_object_available.map(Value::Bool),
        );
        let my_domain = self.my_domain();
        let expected_callback = match &my_domain.fact {
            Fact::Value(Value::Str(d)) => Field {
                fact: Fact::Value(Value::Str(guide::auth_callback_url(d))),
                origin: my_domain.origin.clone(),
                note: Some("derived from the My Domain".to_string()),
            },
            other => Field {
                fact: other.clone(),
                origin: my_domain.origin.clone(),
                note: None,
            },
        };
        o.put("my_domain", my_domain);
        o.put("expected_callback_url", expected_callback);
        // Installed packages.
        let pk = &org.installed_packages;
        match pk.available() {
            Ok(items) => {
                o.put(
                    "installed_package_names",
                    Field::value(
                        Value::strs(items.iter().map(|p| p.name.clone())),
                        pk.source.clone(),
                    ),
                );
                o.put(
                    "installed_package_namespaces",
                    Field::value(
                        Value::strs(items.iter().filter_map(|p| p.namespace.clone())),
                        pk.source.clone(),
                    ),
                );
            }
            Err(reason) => {
                o.put("installed_package_names", Field::not_collected(reason));
                o.put("installed_package_namespaces", Field::not_collected(reason));
            }
        }
        o.put("sites_domains", self.sites_domains());
        Entry::found(o, org.source.clone())
    }

    /// Registered Sites domains: the guide's site's public URLs (`DomainSite`, which enhanced
    /// domains need: `Site.Subdomain` is null there), `Domain` rows of a Sites kind, plus site
    /// subdomains.
    fn sites_domains(&self) -> Field {
        let mut found: Vec<String> = Vec::new();
        let mut origin = None;
        // The domains serving the guide's site could not be read: an empty list proves nothing.
        let mut site_domains_unread: Option<String> = None;
        if let Ok(sites) = self.snap.sites.available() {
            for s in sites.iter().filter(|s| s.full_name == guide::SITE) {
                if let Some(reason) = s.not_collected.get(&SiteField::public_urls) {
                    site_domains_unread.get_or_insert_with(|| reason.clone());
                }
                for url in s.public_urls.iter().flatten() {
                    if !url.trim().is_empty() && !found.contains(url) {
                        found.push(url.clone());
                        origin = origin.or_else(|| super::located(s, SiteField::public_urls));
                    }
                }
            }
            for s in sites {
                if let Some(sub) = s.subdomain.as_ref().filter(|d| !d.trim().is_empty()) {
                    found.push(sub.clone());
                    origin = origin.or_else(|| super::located(s, SiteField::subdomain));
                }
            }
        }
        match self.snap.domains.available() {
            Ok(domains) => {
                for d in domains {
                    let kind = format!(
                        "{} {}",
                        d.domain_type.as_deref().unwrap_or(""),
                        d.https_option.as_deref().unwrap_or("")
                    )
                    .to_lowercase();
                    if kind.contains("site") || kind.contains("community") {
                        found.push(d.domain.clone());
                        origin = origin.or_else(|| d.source.clone());
                    }
                }
                match site_domains_unread {
                    Some(reason) if found.is_empty() => Field::not_collected(format!(
                        "{reason} (with enhanced domains `Site.Subdomain` is null and the site's domain is only in DomainSite)"
                    )),
                    _ => Field::value(
                        Value::strs(found),
                        origin.or(self.snap.domains.source.clone()),
                    ),
                }
            }
            Err(reason) if found.is_empty() => Field::not_collected(reason),
            Err(_) => Field::value(Value::strs(found), origin),
        }
    }

    pub(super) fn aircall(&self) -> Entry {
        match &self.snap.aircall {
            None => Entry::not_collected(
                "the Aircall API check was not run (set AIRCALL_API_ID and AIRCALL_API_TOKEN for a live audit)",
            ),
            Some(a) => {
                let mut o = Object::new(None, a.source.clone());
                put_opt(
                    &mut o,
                    a,
                    AircallCheckField::api_id,
                    str_v(a.api_id.as_ref()),
                );
                put_opt(
                    &mut o,
                    a,
                    AircallCheckField::ping_ok,
                    a.ping_ok.map(Value::Bool),
                );
                put_opt(
                    &mut o,
                    a,
                    AircallCheckField::detail,
                    str_v(a.detail.as_ref()),
                );
                Entry::found(o, a.source.clone())
            }
        }
    }
}
