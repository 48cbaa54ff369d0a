//! The org itself: its identity, My Domain, whether the `VoiceCall` object exists, the ECI
//! setting and the installed packages.

use serde_json::Value;

use super::record::{mark, metadata_origin, metadata_path, record_origin, rows_collection};
use crate::collect::gathered::Gathered;
use crate::collect::rest::string;
use crate::collect::soql::QueryId;
use crate::snapshot::metadata::{MetadataKind, ParsedComponent, parse_metadata_file};
use crate::snapshot::model::{InstalledPackage, OrgField, Origin, Snapshot};

pub(super) fn map_org(
    g: &Gathered,
    instance_url: &str,
    my_domain: Option<&str>,
    api_version: &str,
    s: &mut Snapshot,
) {
    let org = &mut s.org;
    match g.rows(QueryId::Organization) {
        Some(Ok((rows, _))) => {
            if let Some(row) = rows.first() {
                org.id = string(row, "Id");
                org.name = string(row, "Name");
                org.edition = string(row, "OrganizationType");
                org.source = Some(record_origin("Organization", row));
            }
        }
        Some(Err(reason)) => mark(
            org,
            &[OrgField::id, OrgField::name, OrgField::edition],
            reason,
        ),
        None => {}
    }
    org.instance_url = Some(instance_url.to_string());
    org.my_domain = Some(my_domain.unwrap_or(instance_url).to_string());
    let my_domain_origin = match my_domain {
        Some(_) => Origin::Input {
            key: "--my-domain".to_string(),
        },
        None => Origin::Endpoint {
            endpoint: "instance URL of the session".to_string(),
        },
    };
    org.locations.insert(OrgField::my_domain, my_domain_origin);
    match &g.voice_call {
        Some(Ok(available)) => {
            org.voice_call_object_available = Some(*available);
            org.locations.insert(
                OrgField::voice_call_object_available,
                Origin::Endpoint {
                    endpoint: format!("/services/data/v{api_version}/sobjects/VoiceCall/describe"),
                },
            );
        }
        Some(Err(reason)) => mark(org, &[OrgField::voice_call_object_available], reason),
        None => mark(org, &[OrgField::voice_call_object_available], "not read"),
    }
    let settings = MetadataKind::ConversationalIntelligenceSettings;
    match g.metadata.get(&settings) {
        Some(Ok(records)) => match records
            .iter()
            .find(|r| r.full_name == "ConversationalIntelligence")
        {
            Some(record) => match parse_metadata_file(
                settings,
                &record.full_name,
                &metadata_path(settings, &record.full_name),
                record.document.as_bytes(),
            ) {
                Ok(ParsedComponent::ConversationalIntelligence { eci_enabled, .. }) => {
                    org.eci_enabled = eci_enabled;
                    org.locations.insert(
                        OrgField::eci_enabled,
                        metadata_origin(settings, &record.full_name),
                    );
                }
                Ok(_) => mark(
                    org,
                    &[OrgField::eci_enabled],
                    "readMetadata returned another type",
                ),
                Err(e) => mark(
                    org,
                    &[OrgField::eci_enabled],
                    &format!("unreadable readMetadata record: {e}"),
                ),
            },
            None => mark(
                org,
                &[OrgField::eci_enabled],
                "readMetadata returned no ConversationalIntelligence settings record (feature unavailable in this org?)",
            ),
        },
        Some(Err(failure)) => mark(org, &[OrgField::eci_enabled], &failure.reason),
        None => mark(org, &[OrgField::eci_enabled], "not read"),
    }
    org.installed_packages = rows_collection(
        g,
        QueryId::InstalledPackages,
        "InstalledSubscriberPackage",
        installed_package,
    );
}

fn installed_package(row: &Value) -> InstalledPackage {
    let number: Vec<String> = [
        "MajorVersion",
        "MinorVersion",
        "PatchVersion",
        "BuildNumber",
    ]
    .iter()
    .map_while(|f| string(row, &format!("SubscriberPackageVersion.{f}")))
    .collect();
    InstalledPackage {
        name: string(row, "SubscriberPackage.Name").unwrap_or_default(),
        namespace: string(row, "SubscriberPackage.NamespacePrefix"),
        version: if number.len() == 4 {
            Some(number.join("."))
        } else {
            string(row, "SubscriberPackageVersion.Name")
        },
        source: Some(record_origin("InstalledSubscriberPackage", row)),
        ..InstalledPackage::default()
    }
}
