//! Named credentials, with the auth provider each one uses named rather than given by Id.

use std::collections::BTreeMap;

use super::components::{Component, merge_components, named_component};
use super::record::{mark, record_origin};
use crate::collect::gathered::Gathered;
use crate::collect::rest::{boolean, string};
use crate::collect::soql::QueryId;
use crate::snapshot::metadata::{MetadataKind, ParsedComponent};
use crate::snapshot::model::{Collection, NamedCredential, NamedCredentialField, Record};

/// Named credentials: the SOQL rows merged with the `readMetadata` records; `provider_names`
/// (auth provider `Id` → name, `None` when the providers could not be read) names the provider.
pub(super) fn named_credentials(
    g: &Gathered,
    provider_names: Option<&BTreeMap<String, String>>,
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
            if let Some(provider_id) = string(row, "AuthProviderId") {
                if let Some(name) = provider_names.and_then(|names| names.get(&provider_id)) {
                    nc.auth_provider = Some(name.clone());
                } else {
                    let reason = if provider_names.is_some() {
                        format!("AuthProviderId {provider_id} is not among the auth providers read")
                    } else {
                        format!(
                            "AuthProviderId {provider_id}: the auth providers could not be read"
                        )
                    };
                    mark(&mut nc, &[NamedCredentialField::auth_provider], &reason);
                }
            }
            nc
        },
    )
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
