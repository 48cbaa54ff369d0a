//! The `named_credentials` root, with the documented defaults of a legacy named credential.

use super::{Builder, defaulted, defaulted_str, model_field, put_opt, str_v};
use crate::facts::value::{Fact, Field, Object};
use crate::snapshot::model;
use crate::snapshot::model::NamedCredentialField as F;

impl Builder<'_> {
    pub(super) fn named_credential(&self, r: &model::NamedCredential) -> Object {
        let mut o = Object::new(Some(r.full_name.clone()), r.source.clone());
        for (key, value) in [
            (F::label, &r.label),
            (F::endpoint, &r.endpoint),
            (F::principal_type, &r.principal_type),
            (F::protocol, &r.protocol),
            (F::username, &r.username),
            (F::auth_provider, &r.auth_provider),
            (F::oauth_scope, &r.oauth_scope),
        ] {
            put_opt(&mut o, r, key, str_v(value.as_ref()));
        }
        o.put(
            "named_credential_type",
            defaulted_str(
                r,
                F::named_credential_type,
                r.named_credential_type.as_ref(),
                "Legacy",
                "treated as a legacy named credential",
            ),
        );
        for (key, value, default) in [
            (
                F::generate_authorization_header,
                r.generate_authorization_header,
                true,
            ),
            (
                F::allow_merge_fields_in_header,
                r.allow_merge_fields_in_header,
                false,
            ),
            (
                F::allow_merge_fields_in_body,
                r.allow_merge_fields_in_body,
                false,
            ),
        ] {
            o.put(key.as_str(), defaulted(r, key, value, default));
        }
        let mut auth = model_field(r, F::authenticated_as, str_v(r.authenticated_as.as_ref()));
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
