//! Named credentials, with the auth provider each one uses named rather than given by Id.

use std::collections::BTreeMap;

use super::components::{Component, merge_components, named_component};
use super::record::{mark, record_origin};
use crate::collect::gathered::Gathered;
use crate::collect::rest::{boolean, string};
use crate::collect::soql::{ModelField, QueryId};
use crate::snapshot::metadata::{MetadataKind, ParsedComponent};
use crate::snapshot::model::{Collection, NamedCredential, NamedCredentialField, Origin, Record};

/// Named credentials: the SOQL rows merged with the `readMetadata` records; `provider_names`
/// (auth provider `Id` → name, `None` when the providers could not be read) names the provider.
pub(super) fn named_credentials(
    g: &Gathered,
    provider_names: Option<&BTreeMap<String, String>>,
) -> Collection<NamedCredential> {
    // `AuthProviderId` needs Manage AuthProviders: retried without it, the rest still counts.
    let auth_provider_dropped: Option<String> = match g.rows(QueryId::NamedCredentials) {
        Some(Ok((_, dropped))) => dropped
            .iter()
            .find(|(f, _)| {
                f.field == ModelField::NamedCredential(NamedCredentialField::auth_provider)
            })
            .map(|(_, reason)| {
                format!(
                    "{reason} (AuthProviderId needs Customize Application and Manage AuthProviders)"
                )
            }),
        _ => None,
    };
    let mut credentials = soql_and_metadata(g, provider_names, auth_provider_dropped.as_deref());
    tooling_fallback(g, provider_names, &mut credentials);
    credentials
}

fn soql_and_metadata(
    g: &Gathered,
    provider_names: Option<&BTreeMap<String, String>>,
    auth_provider_dropped: Option<&str>,
) -> Collection<NamedCredential> {
    merge_components(
        g,
        QueryId::NamedCredentials,
        MetadataKind::NamedCredential,
        |row| {
            let mut nc = NamedCredential {
                full_name: string(row, "DeveloperName").unwrap_or_default(),
                id: string(row, "Id"),
                label: string(row, "MasterLabel"),
                endpoint: string(row, "Endpoint"),
                principal_type: string(row, "PrincipalType"),
                generate_authorization_header: boolean(
                    row,
                    "CalloutOptionsGenerateAuthorizationHeader",
                ),
                allow_merge_fields_in_header: boolean(
                    row,
                    "CalloutOptionsAllowMergeFieldsInHeader",
                ),
                allow_merge_fields_in_body: boolean(row, "CalloutOptionsAllowMergeFieldsInBody"),
                source: Some(record_origin("NamedCredential", row)),
                ..NamedCredential::default()
            };
            name_auth_provider(&mut nc, row, provider_names);
            if let Some(reason) = auth_provider_dropped {
                mark(&mut nc, &[NamedCredentialField::auth_provider], reason);
            }
            nc
        },
    )
}

fn name_auth_provider(
    nc: &mut NamedCredential,
    row: &serde_json::Value,
    provider_names: Option<&BTreeMap<String, String>>,
) {
    if let Some(provider_id) = string(row, "AuthProviderId") {
        if let Some(name) = provider_names.and_then(|names| names.get(&provider_id)) {
            nc.auth_provider = Some(name.clone());
        } else {
            let reason = if provider_names.is_some() {
                format!("AuthProviderId {provider_id} is not among the auth providers read")
            } else {
                format!("AuthProviderId {provider_id}: the auth providers could not be read")
            };
            mark(nc, &[NamedCredentialField::auth_provider], &reason);
        }
    }
}

/// `readMetadata NamedCredential` refused: the Tooling `NamedCredential` rows (reference 3.5)
/// give the protocol, username, scope and type it would have given.
fn tooling_fallback(
    g: &Gathered,
    provider_names: Option<&BTreeMap<String, String>>,
    credentials: &mut Collection<NamedCredential>,
) {
    let rows = match g.rows(QueryId::ToolingNamedCredentials) {
        Some(Ok((rows, _))) => rows,
        Some(Err(reason)) => {
            for nc in credentials.items_mut().into_iter().flatten() {
                for f in NamedCredential::METADATA_ONLY {
                    if let Some(existing) = nc.not_collected.get_mut(f) {
                        *existing = format!("{existing}; Tooling NamedCredential: {reason}");
                    }
                }
            }
            return;
        }
        None => return,
    };
    let origin = |row: &serde_json::Value| Origin::Record {
        object: "NamedCredential (Tooling)".to_string(),
        id: string(row, "Id"),
    };
    for row in rows {
        let Some(name) = string(row, "DeveloperName") else {
            continue;
        };
        let mut tooling = NamedCredential {
            full_name: name.clone(),
            id: string(row, "Id"),
            label: string(row, "MasterLabel"),
            endpoint: string(row, "Endpoint"),
            principal_type: string(row, "PrincipalType"),
            protocol: string(row, "Protocol"),
            username: string(row, "Username"),
            oauth_scope: string(row, "OauthScope"),
            named_credential_type: string(row, "NamedCredentialType"),
            generate_authorization_header: boolean(row, "GenerateAuthorizationHeader"),
            allow_merge_fields_in_header: boolean(row, "AllowMergeFieldsInHeader"),
            allow_merge_fields_in_body: boolean(row, "AllowMergeFieldsInBody"),
            source: Some(origin(row)),
            ..NamedCredential::default()
        };
        name_auth_provider(&mut tooling, row, provider_names);
        let Some(items) = credentials.items_mut() else {
            return;
        };
        if let Some(nc) = items.iter_mut().find(|nc| nc.full_name == name) {
            for f in NamedCredential::METADATA_ONLY {
                nc.not_collected.remove(f);
                nc.locations.insert(*f, origin(row));
            }
            nc.fill_missing_from(
                &tooling,
                &[
                    NamedCredentialField::protocol,
                    NamedCredentialField::username,
                    NamedCredentialField::oauth_scope,
                    NamedCredentialField::named_credential_type,
                ],
            );
        } else {
            items.push(tooling);
        }
    }
}

impl Component for NamedCredential {
    const METADATA_ONLY: &'static [NamedCredentialField] = &[
        NamedCredentialField::protocol,
        NamedCredentialField::username,
        NamedCredentialField::oauth_scope,
        NamedCredentialField::named_credential_type,
    ];
    named_component!(NamedCredential);
    fn fill_from_soql(&mut self, soql: Self) {
        self.fill_missing_from(
            &soql,
            &[
                NamedCredentialField::id,
                NamedCredentialField::label,
                NamedCredentialField::endpoint,
                NamedCredentialField::principal_type,
                NamedCredentialField::auth_provider,
                NamedCredentialField::generate_authorization_header,
                NamedCredentialField::allow_merge_fields_in_header,
                NamedCredentialField::allow_merge_fields_in_body,
            ],
        );
    }
}
