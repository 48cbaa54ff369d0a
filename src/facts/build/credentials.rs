//! The `named_credentials` root, with the documented defaults of a legacy named credential.

use super::{Builder, defaulted, defaulted_str, model_field, put_opt, str_v};
use crate::facts::value::{Fact, Field, Object};
use crate::snapshot::model;
use crate::snapshot::model::NamedCredentialField;

impl Builder<'_> {
    pub(super) fn named_credential(&self, r: &model::NamedCredential) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        put_opt(
            &mut o,
            r,
            NamedCredentialField::label,
            str_v(r.label.as_ref()),
        );
        put_opt(
            &mut o,
            r,
            NamedCredentialField::endpoint,
            str_v(r.endpoint.as_ref()),
        );
        o.put(
            "named_credential_type",
            defaulted_str(
                r,
                NamedCredentialField::named_credential_type,
                r.named_credential_type.as_ref(),
                "Legacy",
                "treated as a legacy named credential",
            ),
        );
        put_opt(
            &mut o,
            r,
            NamedCredentialField::principal_type,
            str_v(r.principal_type.as_ref()),
        );
        put_opt(
            &mut o,
            r,
            NamedCredentialField::protocol,
            str_v(r.protocol.as_ref()),
        );
        put_opt(
            &mut o,
            r,
            NamedCredentialField::username,
            str_v(r.username.as_ref()),
        );
        put_opt(
            &mut o,
            r,
            NamedCredentialField::auth_provider,
            str_v(r.auth_provider.as_ref()),
        );
        put_opt(
            &mut o,
            r,
            NamedCredentialField::oauth_scope,
            str_v(r.oauth_scope.as_ref()),
        );
        for (key, value, default) in [
            (
                NamedCredentialField::generate_authorization_header,
                r.generate_authorization_header,
                true,
            ),
            (
                NamedCredentialField::allow_merge_fields_in_header,
                r.allow_merge_fields_in_header,
                false,
            ),
            (
                NamedCredentialField::allow_merge_fields_in_body,
                r.allow_merge_fields_in_body,
                false,
            ),
        ] {
            o.put(key.as_str(), defaulted(r, key, value, default));
        }
        let mut auth = model_field(
            r,
            NamedCredentialField::authenticated_as,
            str_v(r.authenticated_as.as_ref()),
        );
        if matches!(auth.fact, Fact::Absent { .. }) {
            // No API exposes the legacy named principal's status (reference §3.6).
            auth = Field::not_collected(
                "no API exposes the authentication status of a legacy named credential",
            );
        }
        o.put("authenticated_as", auth);
        o
    }
}
