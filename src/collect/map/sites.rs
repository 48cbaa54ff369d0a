//! The site the guide creates, placeholders for its users whose query failed, and the org's
//! domains.

use super::components::{Component, merge_components, named_component};
use super::record::{mark, record_origin, rows_collection};
use crate::collect::gathered::Gathered;
use crate::collect::rest::string;
use crate::collect::soql::{self, QueryId};
use crate::snapshot::metadata::{MetadataKind, ParsedComponent};
use crate::snapshot::model::{
    Collection, Domain, Origin, Record, Site, SiteField, Snapshot, User, UserField,
};

/// Sites: the SOQL rows merged with the `readMetadata` records.
pub(super) fn sites(g: &Gathered) -> Collection<Site> {
    let mut sites = soql_and_metadata(g);
    add_public_urls(g, &mut sites);
    sites
}

/// The guide's site's public URLs from `DomainSite` (its domains and path prefix), or why
/// they are unknown.
fn add_public_urls(g: &Gathered, sites: &mut Collection<Site>) {
    let Some(answer) = g.rows(QueryId::DomainSites) else {
        return;
    };
    for site in sites.items_mut().into_iter().flatten() {
        if site.full_name != soql::SITE_NAME {
            continue;
        }
        match &answer {
            Ok((rows, _)) => {
                let urls = rows
                    .iter()
                    .filter(|r| site.id.is_none() || string(r, "SiteId") == site.id)
                    .filter_map(|r| {
                        let host = string(r, "Domain.Domain")?;
                        let prefix = string(r, "PathPrefix").unwrap_or_default();
                        let prefix = prefix.trim_matches('/');
                        Some(if prefix.is_empty() {
                            format!("https://{host}")
                        } else {
                            format!("https://{host}/{prefix}")
                        })
                    })
                    .collect();
                site.public_urls = Some(urls);
                site.not_collected.remove(&SiteField::public_urls);
                site.locations.insert(
                    SiteField::public_urls,
                    Origin::Record {
                        object: "DomainSite".to_string(),
                        id: None,
                    },
                );
            }
            Err(reason) => {
                site.not_collected
                    .insert(SiteField::public_urls, format!("DomainSite: {reason}"));
            }
        }
    }
}

fn soql_and_metadata(g: &Gathered) -> Collection<Site> {
    merge_components(g, QueryId::Sites, MetadataKind::CustomSite, |row| Site {
        full_name: string(row, "Name").unwrap_or_default(),
        id: string(row, "Id"),
        label: string(row, "MasterLabel"),
        status: string(row, "Status"),
        clickjack_protection_level: string(row, "ClickjackProtectionLevel"),
        site_admin: string(row, "AdminId"),
        guest_record_default_owner: string(row, "GuestRecordDefaultOwnerId"),
        guest_user_id: string(row, "GuestUserId"),
        subdomain: string(row, "Subdomain"),
        site_type: string(row, "SiteType"),
        source: Some(record_origin("Site", row)),
        ..Site::default()
    })
}

/// A site points at a user whose query failed: keep a record that says so, so that the rules
/// see "not collected" rather than "no such user".
pub(super) fn add_site_user_placeholders(g: &Gathered, s: &mut Snapshot) {
    if !s.users.is_collected() {
        return;
    }
    let Some(Ok((site_rows, _))) = g.rows(QueryId::Sites) else {
        return;
    };
    for (query, site_field) in [
        (QueryId::GuestUser, "GuestUserId"),
        (QueryId::SiteAdmin, "AdminId"),
        (QueryId::DefaultOwner, "GuestRecordDefaultOwnerId"),
    ] {
        let Some(Err(reason)) = g.rows(query) else {
            continue;
        };
        for site in site_rows
            .iter()
            .filter(|r| string(r, "Name").as_deref() == Some(soql::SITE_NAME))
        {
            let Some(user_id) = string(site, site_field) else {
                continue;
            };
            if s.users.items().iter().any(|u| u.id == user_id) {
                continue;
            }
            let mut user = User {
                id: user_id.clone(),
                source: Some(Origin::Record {
                    object: "User".to_string(),
                    id: Some(user_id),
                }),
                ..User::default()
            };
            mark(
                &mut user,
                &[
                    UserField::username,
                    UserField::name,
                    UserField::is_active,
                    UserField::user_type,
                    UserField::profile_id,
                    UserField::profile_name,
                ],
                reason,
            );
            if let Some(users) = s.users.items_mut() {
                users.push(user);
            }
        }
    }
}

/// The org's domains.
pub(super) fn domains(g: &Gathered) -> Collection<Domain> {
    rows_collection(g, QueryId::Domains, "Domain", |row| Domain {
        domain: string(row, "Domain").unwrap_or_default(),
        domain_type: string(row, "DomainType"),
        https_option: string(row, "HttpsOption"),
        source: Some(record_origin("Domain", row)),
        ..Domain::default()
    })
}

impl Component for Site {
    const METADATA_ONLY: &'static [SiteField] = &[SiteField::active, SiteField::index_page];
    named_component!(Site);
    fn fill_from_soql(&mut self, soql: Self) {
        // The SOQL user Ids replace the metadata usernames: users are collected by Id.
        if soql.site_admin.is_some() {
            self.site_admin = None;
        }
        if soql.guest_record_default_owner.is_some() {
            self.guest_record_default_owner = None;
        }
        self.fill_missing_from(
            &soql,
            &[
                SiteField::site_admin,
                SiteField::guest_record_default_owner,
                SiteField::id,
                SiteField::status,
                SiteField::guest_user_id,
                SiteField::label,
                SiteField::clickjack_protection_level,
                SiteField::subdomain,
                SiteField::site_type,
            ],
        );
    }
}
