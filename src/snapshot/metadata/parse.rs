//! One metadata file → model records. Values are kept raw (defaults are the view layer's job);
//! every value found records its position under the model's JSON field name.

use std::collections::BTreeMap;

use super::error::MetadataError;
use super::xml::{self, Document, Element, LineIndex};
use crate::snapshot::model::{
    AuthProvider, AuthProviderField, ConnectedApp, ConnectedAppField, ExternalClientApp,
    NamedCredential, NamedCredentialField, OauthConfig, OauthConfigField, OauthPolicy,
    OauthPolicyField, ObjectPermission, ObjectPermissionField, OrgField, Origin, PermissionSet,
    PermissionSetField, Profile, SessionPolicy, SessionPolicyField, Site, SiteField, fingerprint,
};

/// The metadata types the loader reads, with their file naming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetadataKind {
    /// `connectedApps/<name>.connectedApp`.
    ConnectedApp,
    /// `authproviders/<name>.authprovider`.
    AuthProvider,
    /// `namedCredentials/<name>.namedCredential`.
    NamedCredential,
    /// `sites/<name>.site` (`CustomSite`).
    CustomSite,
    /// `settings/ConversationalIntelligence.settings`.
    ConversationalIntelligenceSettings,
    /// `permissionsets/<name>.permissionset`.
    PermissionSet,
    /// `profiles/<name>.profile`.
    Profile,
    /// `externalCredentials/<name>.externalCredential`: parsed and validated, nothing mapped.
    ExternalCredential,
    /// `externalClientApps/<name>.eca`: an External Client App's header.
    ExternalClientApplication,
    /// `extlClntAppOauthPolicies/<name>.ecaOauthPlcy`: its OAuth policies.
    ExtlClntAppOauthPolicies,
    /// `package.xml` of an mdapi retrieve.
    Package,
    /// `extlClntAppOauthSettings/<name>.ecaOauth`: its OAuth settings (scopes).
    ExtlClntAppOauthSettings,
    /// `extlClntAppGlobalOauthSets/<name>.ecaGlblOauth`: its global OAuth settings (callback
    /// URL, consumer key, secret flags).
    ExtlClntAppGlobalOauthSettings,
}

impl MetadataKind {
    /// Every kind found by file name (not [`MetadataKind::Package`]).
    pub const COMPONENTS: [MetadataKind; 12] = [
        MetadataKind::ConnectedApp,
        MetadataKind::AuthProvider,
        MetadataKind::NamedCredential,
        MetadataKind::CustomSite,
        MetadataKind::ConversationalIntelligenceSettings,
        MetadataKind::PermissionSet,
        MetadataKind::Profile,
        MetadataKind::ExternalCredential,
        MetadataKind::ExternalClientApplication,
        MetadataKind::ExtlClntAppOauthPolicies,
        MetadataKind::ExtlClntAppOauthSettings,
        MetadataKind::ExtlClntAppGlobalOauthSettings,
    ];

    /// The metadata type name (`ConnectedApp`, `CustomSite`, …).
    pub fn type_name(self) -> &'static str {
        match self {
            MetadataKind::ConnectedApp => "ConnectedApp",
            MetadataKind::AuthProvider => "AuthProvider",
            MetadataKind::NamedCredential => "NamedCredential",
            MetadataKind::CustomSite => "CustomSite",
            MetadataKind::ConversationalIntelligenceSettings => {
                "ConversationalIntelligenceSettings"
            }
            MetadataKind::PermissionSet => "PermissionSet",
            MetadataKind::Profile => "Profile",
            MetadataKind::ExternalCredential => "ExternalCredential",
            MetadataKind::ExternalClientApplication => "ExternalClientApplication",
            MetadataKind::ExtlClntAppOauthPolicies => "ExtlClntAppOauthConfigurablePolicies",
            MetadataKind::ExtlClntAppOauthSettings => "ExtlClntAppOauthSettings",
            MetadataKind::ExtlClntAppGlobalOauthSettings => "ExtlClntAppGlobalOauthSettings",
            MetadataKind::Package => "Package",
        }
    }

    /// The root element a file of this kind must have.
    pub fn root_element(self) -> &'static str {
        self.type_name()
    }

    /// The file suffix without the dot (`connectedApp`); source format appends `-meta.xml`.
    pub fn suffix(self) -> &'static str {
        match self {
            MetadataKind::ConnectedApp => "connectedApp",
            MetadataKind::AuthProvider => "authprovider",
            MetadataKind::NamedCredential => "namedCredential",
            MetadataKind::CustomSite => "site",
            MetadataKind::ConversationalIntelligenceSettings => "settings",
            MetadataKind::PermissionSet => "permissionset",
            MetadataKind::Profile => "profile",
            MetadataKind::ExternalCredential => "externalCredential",
            MetadataKind::ExternalClientApplication => "eca",
            MetadataKind::ExtlClntAppOauthPolicies => "ecaOauthPlcy",
            MetadataKind::ExtlClntAppOauthSettings => "ecaOauth",
            MetadataKind::ExtlClntAppGlobalOauthSettings => "ecaGlblOauth",
            MetadataKind::Package => "xml",
        }
    }

    /// The mdapi folder (`connectedApps`).
    pub fn folder(self) -> &'static str {
        match self {
            MetadataKind::ConnectedApp => "connectedApps",
            MetadataKind::AuthProvider => "authproviders",
            MetadataKind::NamedCredential => "namedCredentials",
            MetadataKind::CustomSite => "sites",
            MetadataKind::ConversationalIntelligenceSettings => "settings",
            MetadataKind::PermissionSet => "permissionsets",
            MetadataKind::Profile => "profiles",
            MetadataKind::ExternalCredential => "externalCredentials",
            MetadataKind::ExternalClientApplication => "externalClientApps",
            MetadataKind::ExtlClntAppOauthPolicies => "extlClntAppOauthPolicies",
            MetadataKind::ExtlClntAppOauthSettings => "extlClntAppOauthSettings",
            MetadataKind::ExtlClntAppGlobalOauthSettings => "extlClntAppGlobalOauthSets",
            MetadataKind::Package => "",
        }
    }

    /// Classifies a file by name: `X.connectedApp-meta.xml` anywhere (source format), or
    /// `X.connectedApp` inside a `connectedApps` folder (mdapi format). Returns the kind and the
    /// URL-decoded fullName. Only `ConversationalIntelligence` settings are of interest.
    pub fn classify(
        file_name: &str,
        parent_folder: Option<&str>,
    ) -> Option<(MetadataKind, String)> {
        if file_name.starts_with("._") {
            // macOS AppleDouble companions, not metadata.
            return None;
        }
        let (stem, source_format) = match file_name.strip_suffix("-meta.xml") {
            Some(stem) => (stem, true),
            None => (file_name, false),
        };
        let (name, suffix) = stem.rsplit_once('.')?;
        let kind = Self::COMPONENTS
            .into_iter()
            .find(|k| k.suffix() == suffix)?;
        if !source_format && parent_folder != Some(kind.folder()) {
            return None;
        }
        let full_name = percent_decode(name);
        if full_name.is_empty() {
            return None;
        }
        if kind == MetadataKind::ConversationalIntelligenceSettings
            && full_name != "ConversationalIntelligence"
        {
            return None;
        }
        Some((kind, full_name))
    }
}

impl std::fmt::Display for MetadataKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.type_name())
    }
}

/// Decodes `%XX` escapes in a file name (`Custom%3A Sales Profile` → `Custom: Sales Profile`);
/// malformed escapes are kept as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What one file contributes to a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedComponent {
    /// Boxed: by far the largest record.
    ConnectedApp(Box<ConnectedApp>),
    AuthProvider(AuthProvider),
    NamedCredential(NamedCredential),
    Site(Site),
    /// `enableCallCoaching`, and where it stands (the root element when it is absent).
    ConversationalIntelligence {
        eci_enabled: Option<bool>,
        location: Origin,
    },
    /// A permission set and its `VoiceCall` object permissions.
    PermissionSet {
        permission_set: PermissionSet,
        object_permissions: Vec<ObjectPermission>,
    },
    /// A profile, its profile-owned permission set and its `VoiceCall` object permissions.
    Profile {
        profile: Profile,
        permission_set: PermissionSet,
        object_permissions: Vec<ObjectPermission>,
    },
    /// An External Client App: its header or one part of its OAuth plugin (see
    /// [`super::eca::merge`]).
    ExternalClientApp(Box<ExternalClientApp>),
    /// Parsed and validated; nothing maps into the snapshot.
    ExternalCredential,
    /// An mdapi `package.xml`, with its `<version>`.
    Package {
        api_version: Option<String>,
    },
}

/// Synthetic permission set Id of a permission set file.
pub fn permission_set_file_id(full_name: &str) -> String {
    format!("file:{full_name}")
}

/// Synthetic Id of a profile file, shared by the profile and its profile-owned permission set.
pub fn profile_file_id(full_name: &str) -> String {
    format!("file:profile:{full_name}")
}

/// The display name of a profile from its metadata fullName (`Admin` → `System Administrator`).
pub fn profile_display_name(full_name: &str) -> String {
    match full_name {
        "Admin" => "System Administrator".to_string(),
        "Standard" => "Standard User".to_string(),
        other => other.to_string(),
    }
}

/// Parses one metadata file of a known kind. `full_name` is the component's fullName (from the
/// file name), `path` names the file in locations and errors. Never panics, whatever the bytes.
pub fn parse_metadata_file(
    kind: MetadataKind,
    full_name: &str,
    path: &str,
    bytes: &[u8],
) -> Result<ParsedComponent, MetadataError> {
    let src = xml::decode(bytes, path)?;
    let doc = xml::parse(src, path)?;
    let cx = Cx {
        path,
        lines: &doc.lines,
    };
    check_root(&cx, &doc, kind)?;
    let root = &doc.root;
    Ok(match kind {
        MetadataKind::ConnectedApp => {
            ParsedComponent::ConnectedApp(Box::new(connected_app(&cx, root, full_name)?))
        }
        MetadataKind::AuthProvider => {
            ParsedComponent::AuthProvider(auth_provider(&cx, root, full_name)?)
        }
        MetadataKind::NamedCredential => {
            ParsedComponent::NamedCredential(named_credential(&cx, root, full_name)?)
        }
        MetadataKind::CustomSite => ParsedComponent::Site(site(&cx, root, full_name)?),
        MetadataKind::ConversationalIntelligenceSettings => {
            let mut locations = BTreeMap::new();
            let eci_enabled = cx.boolean(
                root,
                "enableCallCoaching",
                OrgField::eci_enabled,
                &mut locations,
            )?;
            let location = locations
                .remove(&OrgField::eci_enabled)
                .unwrap_or_else(|| cx.origin(root.offset));
            ParsedComponent::ConversationalIntelligence {
                eci_enabled,
                location,
            }
        }
        MetadataKind::PermissionSet => {
            let id = permission_set_file_id(full_name);
            let mut set = permission_set(&cx, root, &id)?;
            set.name = Some(full_name.to_string());
            set.label = cx.string(root, "label", PermissionSetField::label, &mut set.locations)?;
            let object_permissions = voice_call_permissions(&cx, root, &id)?;
            ParsedComponent::PermissionSet {
                permission_set: set,
                object_permissions,
            }
        }
        MetadataKind::Profile => {
            let id = profile_file_id(full_name);
            let profile = Profile {
                id: Some(id.clone()),
                name: profile_display_name(full_name),
                api_name: Some(full_name.to_string()),
                source: Some(cx.origin(root.offset)),
                ..Profile::default()
            };
            let mut set = permission_set(&cx, root, &id)?;
            set.is_owned_by_profile = Some(true);
            set.profile_id = Some(id.clone());
            let object_permissions = voice_call_permissions(&cx, root, &id)?;
            ParsedComponent::Profile {
                profile,
                permission_set: set,
                object_permissions,
            }
        }
        MetadataKind::ExternalClientApplication
        | MetadataKind::ExtlClntAppOauthPolicies
        | MetadataKind::ExtlClntAppOauthSettings
        | MetadataKind::ExtlClntAppGlobalOauthSettings => ParsedComponent::ExternalClientApp(
            Box::new(super::eca::parse(&cx, root, kind, full_name)?),
        ),
        MetadataKind::ExternalCredential => ParsedComponent::ExternalCredential,
        MetadataKind::Package => {
            let mut scratch = BTreeMap::new();
            let api_version = cx
                .string(root, "version", "version", &mut scratch)?
                .map(|v| v.trim().to_string());
            ParsedComponent::Package { api_version }
        }
    })
}

/// Checks that a document is well-formed XML with any root; for files of types the loader does
/// not map (the corpus test uses it for call centers, remote sites, …).
pub fn check_xml(path: &str, bytes: &[u8]) -> Result<(), MetadataError> {
    let src = xml::decode(bytes, path)?;
    xml::parse(src, path).map(|_| ())
}

fn check_root(cx: &Cx, doc: &Document, kind: MetadataKind) -> Result<(), MetadataError> {
    if doc.root.name == kind.root_element() {
        return Ok(());
    }
    let (line, column) = cx.lines.position(doc.root.offset);
    Err(MetadataError::WrongRoot {
        path: cx.path.to_string(),
        line,
        column,
        kind: kind.type_name().to_string(),
        expected: kind.root_element().to_string(),
        found: xml::truncate(&doc.root.name, 60),
    })
}

fn connected_app(cx: &Cx, root: &Element, full_name: &str) -> Result<ConnectedApp, MetadataError> {
    let mut app = ConnectedApp {
        full_name: full_name.to_string(),
        source: Some(cx.origin(root.offset)),
        ..ConnectedApp::default()
    };
    let loc = &mut app.locations;
    app.label = cx.string(root, "label", ConnectedAppField::label, loc)?;
    app.contact_email = cx.string(root, "contactEmail", ConnectedAppField::contact_email, loc)?;
    app.profile_names = cx.list(root, "profileName", ConnectedAppField::profile_names, loc)?;
    app.permission_set_names = cx.list(
        root,
        "permissionSetName",
        ConnectedAppField::permission_set_names,
        loc,
    )?;
    if let Some(el) = cx.one(root, "oauthConfig")? {
        loc.insert(ConnectedAppField::oauth_config, cx.origin(el.offset));
        if !el.nil {
            let mut c = OauthConfig {
                source: Some(cx.origin(el.offset)),
                ..OauthConfig::default()
            };
            let l = &mut c.locations;
            c.callback_url = cx.string(el, "callbackUrl", OauthConfigField::callback_url, l)?;
            c.consumer_key_fingerprint = cx.consumer_key(
                el,
                OauthConfigField::consumer_key_fingerprint,
                l,
                &mut c.not_collected,
                CONNECTED_APP_KEY_LATER,
            )?;
            c.is_admin_approved = cx.boolean(
                el,
                "isAdminApproved",
                OauthConfigField::is_admin_approved,
                l,
            )?;
            c.is_consumer_secret_optional = cx.boolean(
                el,
                "isConsumerSecretOptional",
                OauthConfigField::is_consumer_secret_optional,
                l,
            )?;
            c.is_secret_required_for_refresh_token = cx.boolean(
                el,
                "isSecretRequiredForRefreshToken",
                OauthConfigField::is_secret_required_for_refresh_token,
                l,
            )?;
            c.is_refresh_token_rotation_enabled = cx.boolean(
                el,
                "isRefreshTokenRotationEnabled",
                OauthConfigField::is_refresh_token_rotation_enabled,
                l,
            )?;
            c.scopes = cx.list(el, "scopes", OauthConfigField::scopes, l)?;
            app.oauth_config = Some(c);
        }
    }
    if let Some(el) = cx.one(root, "oauthPolicy")? {
        app.locations
            .insert(ConnectedAppField::oauth_policy, cx.origin(el.offset));
        if !el.nil {
            let mut p = OauthPolicy {
                source: Some(cx.origin(el.offset)),
                ..OauthPolicy::default()
            };
            p.ip_relaxation = cx.string(
                el,
                "ipRelaxation",
                OauthPolicyField::ip_relaxation,
                &mut p.locations,
            )?;
            p.refresh_token_policy = cx.string(
                el,
                "refreshTokenPolicy",
                OauthPolicyField::refresh_token_policy,
                &mut p.locations,
            )?;
            app.oauth_policy = Some(p);
        }
    }
    if let Some(el) = cx.one(root, "sessionPolicy")? {
        app.locations
            .insert(ConnectedAppField::session_policy, cx.origin(el.offset));
        if !el.nil {
            let mut p = SessionPolicy {
                source: Some(cx.origin(el.offset)),
                ..SessionPolicy::default()
            };
            p.session_level = cx.string(
                el,
                "sessionLevel",
                SessionPolicyField::session_level,
                &mut p.locations,
            )?;
            p.policy_action = cx.string(
                el,
                "policyAction",
                SessionPolicyField::policy_action,
                &mut p.locations,
            )?;
            app.session_policy = Some(p);
        }
    }
    Ok(app)
}

fn auth_provider(cx: &Cx, root: &Element, full_name: &str) -> Result<AuthProvider, MetadataError> {
    let mut p = AuthProvider {
        full_name: full_name.to_string(),
        source: Some(cx.origin(root.offset)),
        ..AuthProvider::default()
    };
    let l = &mut p.locations;
    p.friendly_name = cx.string(root, "friendlyName", AuthProviderField::friendly_name, l)?;
    p.provider_type = cx.string(root, "providerType", AuthProviderField::provider_type, l)?;
    p.consumer_key_fingerprint = cx.consumer_key(
        root,
        AuthProviderField::consumer_key_fingerprint,
        l,
        &mut p.not_collected,
        AUTH_PROVIDER_KEY_LATER,
    )?;
    Ok(p)
}

fn named_credential(
    cx: &Cx,
    root: &Element,
    full_name: &str,
) -> Result<NamedCredential, MetadataError> {
    let mut n = NamedCredential {
        full_name: full_name.to_string(),
        source: Some(cx.origin(root.offset)),
        ..NamedCredential::default()
    };
    let l = &mut n.locations;
    n.label = cx.string(root, "label", NamedCredentialField::label, l)?;
    n.endpoint = cx.string(root, "endpoint", NamedCredentialField::endpoint, l)?;
    n.named_credential_type = cx.string(
        root,
        "namedCredentialType",
        NamedCredentialField::named_credential_type,
        l,
    )?;
    n.principal_type = cx.string(
        root,
        "principalType",
        NamedCredentialField::principal_type,
        l,
    )?;
    n.protocol = cx.string(root, "protocol", NamedCredentialField::protocol, l)?;
    n.username = cx.string(root, "username", NamedCredentialField::username, l)?;
    n.auth_provider = cx.string(root, "authProvider", NamedCredentialField::auth_provider, l)?;
    n.oauth_scope = cx.string(root, "oauthScope", NamedCredentialField::oauth_scope, l)?;
    n.generate_authorization_header = cx.boolean(
        root,
        "generateAuthorizationHeader",
        NamedCredentialField::generate_authorization_header,
        l,
    )?;
    n.allow_merge_fields_in_header = cx.boolean(
        root,
        "allowMergeFieldsInHeader",
        NamedCredentialField::allow_merge_fields_in_header,
        l,
    )?;
    n.allow_merge_fields_in_body = cx.boolean(
        root,
        "allowMergeFieldsInBody",
        NamedCredentialField::allow_merge_fields_in_body,
        l,
    )?;
    Ok(n)
}

fn site(cx: &Cx, root: &Element, full_name: &str) -> Result<Site, MetadataError> {
    let mut s = Site {
        full_name: full_name.to_string(),
        source: Some(cx.origin(root.offset)),
        ..Site::default()
    };
    let l = &mut s.locations;
    s.label = cx.string(root, "masterLabel", SiteField::label, l)?;
    s.active = cx.boolean(root, "active", SiteField::active, l)?;
    s.index_page = cx.string(root, "indexPage", SiteField::index_page, l)?;
    s.clickjack_protection_level = cx.string(
        root,
        "clickjackProtectionLevel",
        SiteField::clickjack_protection_level,
        l,
    )?;
    s.site_admin = cx.string(root, "siteAdmin", SiteField::site_admin, l)?;
    s.guest_record_default_owner = cx.string(
        root,
        "siteGuestRecordDefaultOwner",
        SiteField::guest_record_default_owner,
        l,
    )?;
    s.subdomain = cx.string(root, "subdomain", SiteField::subdomain, l)?;
    s.site_type = cx.string(root, "siteType", SiteField::site_type, l)?;
    Ok(s)
}

/// The user permissions the rules read, from `<userPermissions>` blocks (names compared
/// case-insensitively: the official sample spells `APIEnabled`).
fn permission_set(cx: &Cx, root: &Element, id: &str) -> Result<PermissionSet, MetadataError> {
    let mut set = PermissionSet {
        id: id.to_string(),
        source: Some(cx.origin(root.offset)),
        ..PermissionSet::default()
    };
    for block in root.children_named("userPermissions") {
        if block.nil {
            continue;
        }
        let mut scratch = BTreeMap::new();
        let Some(name) = cx.string(block, "name", PermissionSetField::name, &mut scratch)? else {
            continue;
        };
        let (slot, key) = match name.trim().to_ascii_lowercase().as_str() {
            "apienabled" => (&mut set.api_enabled, PermissionSetField::api_enabled),
            "callcoachinguser" => (
                &mut set.call_coaching_user,
                PermissionSetField::call_coaching_user,
            ),
            "cipartnerintegrationuser" => (
                &mut set.ci_partner_integration_user,
                PermissionSetField::ci_partner_integration_user,
            ),
            _ => continue,
        };
        if slot.is_some() {
            // A repeated permission: the first block counts, as Salesforce rejects duplicates.
            continue;
        }
        *slot = cx.boolean(block, "enabled", key, &mut scratch)?;
        set.locations.insert(key, cx.origin(block.offset));
    }
    Ok(set)
}

fn voice_call_permissions(
    cx: &Cx,
    root: &Element,
    parent_id: &str,
) -> Result<Vec<ObjectPermission>, MetadataError> {
    let mut out = Vec::new();
    for block in root.children_named("objectPermissions") {
        if block.nil {
            continue;
        }
        let mut locations = BTreeMap::new();
        let Some(object) = cx.string(
            block,
            "object",
            ObjectPermissionField::object,
            &mut locations,
        )?
        else {
            continue;
        };
        if !object.trim().eq_ignore_ascii_case("VoiceCall") {
            continue;
        }
        let mut flag = |element: &str, key: ObjectPermissionField| -> Result<bool, MetadataError> {
            Ok(cx
                .boolean(block, element, key, &mut locations)?
                .unwrap_or(false))
        };
        let read = flag("allowRead", ObjectPermissionField::read)?;
        let create = flag("allowCreate", ObjectPermissionField::create)?;
        let edit = flag("allowEdit", ObjectPermissionField::edit)?;
        let view_all = flag("viewAllRecords", ObjectPermissionField::view_all)?;
        out.push(ObjectPermission {
            parent_id: parent_id.to_string(),
            object: object.trim().to_string(),
            read,
            create,
            edit,
            view_all,
            source: Some(cx.origin(block.offset)),
            not_collected: BTreeMap::new(),
            locations,
        });
    }
    Ok(out)
}

/// Why a connected app file has no `consumerKey`.
const CONNECTED_APP_KEY_LATER: &str =
    "Salesforce sets it when the app is created; retrieve the app to compare keys";

/// Why an auth provider file has no `consumerKey`.
const AUTH_PROVIDER_KEY_LATER: &str = "the key is set in the org, from the connected app; \
     retrieve the auth provider to compare keys";

/// File context for positions and errors.
pub(super) struct Cx<'p> {
    pub(super) path: &'p str,
    pub(super) lines: &'p LineIndex<'p>,
}

impl Cx<'_> {
    pub(super) fn origin(&self, offset: usize) -> Origin {
        let (line, column) = self.lines.position(offset);
        Origin::File {
            path: self.path.to_string(),
            line,
            column,
        }
    }

    /// The single child element `name`, if any; a repeated one is an error.
    pub(super) fn one<'e, 'a>(
        &self,
        parent: &'e Element<'a>,
        name: &'e str,
    ) -> Result<Option<&'e Element<'a>>, MetadataError> {
        let mut found = parent.children_named(name);
        let first = found.next();
        if let (Some(first), Some(second)) = (first, found.next()) {
            let (line, column) = self.lines.position(second.offset);
            let (first_line, _) = self.lines.position(first.offset);
            return Err(MetadataError::DuplicateElement {
                path: self.path.to_string(),
                line,
                column,
                element: name.to_string(),
                first_line,
            });
        }
        Ok(first)
    }

    /// The text of a leaf element; an element with child elements is an error.
    pub(super) fn text(&self, el: &Element) -> Result<Option<String>, MetadataError> {
        if el.nil {
            return Ok(None);
        }
        if el.has_child_elements {
            let (line, column) = self.lines.position(el.offset);
            let child = el.first_child_name.as_deref().map_or_else(
                || "a child element".to_string(),
                |c| format!("a child element <{}>", xml::truncate(c, 60)),
            );
            return Err(MetadataError::Unexpected {
                path: self.path.to_string(),
                line,
                column,
                expected: format!("text in <{}>", el.name),
                found: child,
            });
        }
        Ok(Some(el.text.to_string()))
    }

    pub(super) fn string<K: Ord>(
        &self,
        parent: &Element,
        name: &str,
        key: K,
        locations: &mut BTreeMap<K, Origin>,
    ) -> Result<Option<String>, MetadataError> {
        let Some(el) = self.one(parent, name)? else {
            return Ok(None);
        };
        let value = self.text(el)?;
        if value.is_some() {
            locations.insert(key, self.origin(el.offset));
        }
        Ok(value)
    }

    /// An `xsd:boolean` after trimming its whitespace: `true`/`1` or `false`/`0` (case-sensitive,
    /// as in the schema); anything else is an error at the element.
    pub(super) fn boolean<K: Ord>(
        &self,
        parent: &Element,
        name: &str,
        key: K,
        locations: &mut BTreeMap<K, Origin>,
    ) -> Result<Option<bool>, MetadataError> {
        let Some(el) = self.one(parent, name)? else {
            return Ok(None);
        };
        let Some(text) = self.text(el)? else {
            return Ok(None);
        };
        let value = match text.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                let (line, column) = self.lines.position(el.offset);
                return Err(MetadataError::InvalidBoolean {
                    path: self.path.to_string(),
                    line,
                    column,
                    element: name.to_string(),
                    found: not_a_boolean(other),
                });
            }
        };
        locations.insert(key, self.origin(el.offset));
        Ok(Some(value))
    }

    /// A repeated element as a list; `None` when it does not occur. The location is the first.
    pub(super) fn list<K: Ord>(
        &self,
        parent: &Element,
        name: &str,
        key: K,
        locations: &mut BTreeMap<K, Origin>,
    ) -> Result<Option<Vec<String>>, MetadataError> {
        let mut values = Vec::new();
        let mut first = None;
        for el in parent.children_named(name) {
            if let Some(text) = self.text(el)? {
                first.get_or_insert(el.offset);
                values.push(text);
            }
        }
        Ok(first.map(|offset| {
            locations.insert(key, self.origin(offset));
            values
        }))
    }

    /// `consumerKey` as a fingerprint. A missing or blank key (a fingerprint of "" would make
    /// two blank keys look equal) is *not collected*, not absent: a source file normally has no
    /// key before the first deploy, so its absence proves nothing about the org. The reason is
    /// `no consumerKey in FILE: {later}`; a blank element keeps its location.
    pub(super) fn consumer_key<K: Ord + Copy>(
        &self,
        parent: &Element,
        key: K,
        locations: &mut BTreeMap<K, Origin>,
        not_collected: &mut BTreeMap<K, String>,
        later: &str,
    ) -> Result<Option<String>, MetadataError> {
        let value = self
            .string(parent, "consumerKey", key, locations)?
            .filter(|k| !k.trim().is_empty());
        if let Some(k) = value {
            Ok(Some(fingerprint(&k)))
        } else {
            not_collected.insert(key, format!("no consumerKey in {}: {later}", self.path));
            Ok(None)
        }
    }
}

/// How an element that should be a boolean is quoted: a short mistake (`TRUE`, `yes`) as it
/// is; anything longer only by its length, so a value an org echoes there (a token) is never
/// copied into a message.
fn not_a_boolean(value: &str) -> String {
    let chars = value.chars().count();
    if chars <= 8 {
        format!("`{value}`")
    } else {
        format!("a {chars}-character value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_by_name_and_folder() {
        assert_eq!(
            MetadataKind::classify("ECIConnectedApp.connectedApp-meta.xml", Some("x")),
            Some((MetadataKind::ConnectedApp, "ECIConnectedApp".to_string()))
        );
        assert_eq!(
            MetadataKind::classify("A.connectedApp", Some("connectedApps")),
            Some((MetadataKind::ConnectedApp, "A".to_string()))
        );
        assert_eq!(MetadataKind::classify("A.connectedApp", Some("apps")), None);
        assert_eq!(MetadataKind::classify(".profile", Some("home")), None);
        assert_eq!(
            MetadataKind::classify("Custom%3A Sales Profile.profile-meta.xml", None),
            Some((MetadataKind::Profile, "Custom: Sales Profile".to_string()))
        );
        assert_eq!(
            MetadataKind::classify("Security.settings-meta.xml", None),
            None
        );
        assert_eq!(
            MetadataKind::classify("ConversationalIntelligence.settings", Some("settings")),
            Some((
                MetadataKind::ConversationalIntelligenceSettings,
                "ConversationalIntelligence".to_string()
            ))
        );
        assert_eq!(
            MetadataKind::classify("._A.connectedApp", Some("connectedApps")),
            None
        );
    }

    #[test]
    fn percent_decoding_is_lenient() {
        assert_eq!(percent_decode("a%3Ab%2"), "a:b%2");
        assert_eq!(percent_decode("%zz%"), "%zz%");
        assert_eq!(percent_decode("%E3%82%B7"), "シ");
    }

    fn named_credential_with_body_flag(text: &str) -> Result<Option<bool>, MetadataError> {
        let src = format!(
            "<NamedCredential><allowMergeFieldsInBody>{text}</allowMergeFieldsInBody></NamedCredential>"
        );
        match parse_metadata_file(MetadataKind::NamedCredential, "A", "a.xml", src.as_bytes())? {
            ParsedComponent::NamedCredential(nc) => {
                assert!(nc.locations.contains_key("allow_merge_fields_in_body"));
                Ok(nc.allow_merge_fields_in_body)
            }
            other => panic!("not a named credential: {other:?}"),
        }
    }

    #[test]
    fn booleans_are_strict() {
        let err = named_credential_with_body_flag(" yes ").unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.xml:1:18: <allowMergeFieldsInBody> must be `true` or `false` (or `1`/`0`), found `yes`"
        );
        assert_eq!(
            named_credential_with_body_flag("\n true\n").unwrap(),
            Some(true)
        );
        // xsd:boolean is case-sensitive and has exactly four literals.
        for bad in ["TRUE", "False", "2", "01", "-1", "1.0", "t", ""] {
            let err = named_credential_with_body_flag(bad).unwrap_err();
            assert!(
                matches!(
                    &err,
                    MetadataError::InvalidBoolean {
                        line: 1,
                        column: 18,
                        ..
                    }
                ),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn booleans_accept_xsd_one_and_zero() {
        assert_eq!(named_credential_with_body_flag("1").unwrap(), Some(true));
        assert_eq!(named_credential_with_body_flag("0").unwrap(), Some(false));
        assert_eq!(
            named_credential_with_body_flag("\n\t 1 \r\n").unwrap(),
            Some(true)
        );
        assert_eq!(
            named_credential_with_body_flag(" 0\n").unwrap(),
            Some(false)
        );
    }

    #[test]
    fn wrong_root_names_the_file() {
        let err = parse_metadata_file(MetadataKind::ConnectedApp, "A", "a.xml", b"<AuthProvider/>")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a.xml") && err.contains("<ConnectedApp>"),
            "{err}"
        );
    }

    #[test]
    fn duplicates_and_nested_values_are_errors() {
        let err = parse_metadata_file(
            MetadataKind::CustomSite,
            "S",
            "s.xml",
            b"<CustomSite>\n<indexPage>a</indexPage>\n<indexPage>b</indexPage></CustomSite>",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "s.xml:3:1: <indexPage> appears more than once (first at line 2); expected a single value"
        );
        let err = parse_metadata_file(
            MetadataKind::CustomSite,
            "S",
            "s.xml",
            b"<CustomSite><indexPage><b/></indexPage></CustomSite>",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("expected text in <indexPage>, found a child element <b>"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_reach_the_model() {
        let src = b"<ConnectedApp><oauthConfig><consumerKey>KEY1</consumerKey>\
            <consumerSecret>S3CR3T</consumerSecret></oauthConfig></ConnectedApp>";
        let parsed = parse_metadata_file(MetadataKind::ConnectedApp, "A", "a.xml", src).unwrap();
        let text = format!("{parsed:?}");
        assert!(!text.contains("S3CR3T") && !text.contains("KEY1"), "{text}");
        let ParsedComponent::ConnectedApp(app) = parsed else {
            panic!("not a connected app")
        };
        assert_eq!(
            app.oauth_config.unwrap().consumer_key_fingerprint,
            Some(fingerprint("KEY1"))
        );
    }

    const KEY: &str = "consumer_key_fingerprint";

    fn auth_provider(src: &str) -> AuthProvider {
        match parse_metadata_file(MetadataKind::AuthProvider, "P", "p.xml", src.as_bytes()) {
            Ok(ParsedComponent::AuthProvider(p)) => p,
            other => panic!("not an auth provider: {other:?}"),
        }
    }

    fn oauth_config(src: &str) -> OauthConfig {
        match parse_metadata_file(MetadataKind::ConnectedApp, "A", "a.xml", src.as_bytes()) {
            Ok(ParsedComponent::ConnectedApp(app)) => {
                // The key belongs to the OAuth settings, not the app.
                assert!(!app.not_collected.contains_key(KEY), "{app:?}");
                app.oauth_config.expect("oauthConfig")
            }
            other => panic!("not a connected app: {other:?}"),
        }
    }

    #[test]
    fn blank_consumer_key_is_not_collected() {
        let p = auth_provider("<AuthProvider><consumerKey> </consumerKey></AuthProvider>");
        assert_eq!(p.consumer_key_fingerprint, None);
        assert!(p.locations.contains_key(KEY));
        assert!(
            p.not_collected[KEY].starts_with("no consumerKey in p.xml: "),
            "{:?}",
            p.not_collected
        );
        let c = oauth_config(
            "<ConnectedApp><oauthConfig><consumerKey></consumerKey></oauthConfig></ConnectedApp>",
        );
        assert_eq!(c.consumer_key_fingerprint, None);
        assert_eq!(
            c.not_collected[KEY],
            "no consumerKey in a.xml: Salesforce sets it when the app is created; \
             retrieve the app to compare keys"
        );
    }

    #[test]
    fn missing_consumer_key_is_not_collected() {
        let p =
            auth_provider("<AuthProvider><providerType>Salesforce</providerType></AuthProvider>");
        assert_eq!(p.consumer_key_fingerprint, None);
        assert!(!p.locations.contains_key(KEY));
        assert!(
            p.not_collected[KEY].contains("retrieve the auth provider to compare keys"),
            "{:?}",
            p.not_collected
        );
        let c = oauth_config(
            "<ConnectedApp><oauthConfig><callbackUrl>https://x</callbackUrl></oauthConfig></ConnectedApp>",
        );
        assert_eq!(c.consumer_key_fingerprint, None);
        assert!(
            c.not_collected[KEY].starts_with("no consumerKey in a.xml: Salesforce sets it"),
            "{:?}",
            c.not_collected
        );
        // A present key is collected; no OAuth settings means no key to speak of.
        let p = auth_provider("<AuthProvider><consumerKey>K</consumerKey></AuthProvider>");
        assert_eq!(p.consumer_key_fingerprint, Some(fingerprint("K")));
        assert!(p.not_collected.is_empty());
        let c = oauth_config(
            "<ConnectedApp><oauthConfig><consumerKey>K</consumerKey></oauthConfig></ConnectedApp>",
        );
        assert!(c.not_collected.is_empty());
        let ParsedComponent::ConnectedApp(app) = parse_metadata_file(
            MetadataKind::ConnectedApp,
            "A",
            "a.xml",
            b"<ConnectedApp><label>A</label></ConnectedApp>",
        )
        .unwrap() else {
            panic!("not a connected app")
        };
        assert_eq!(app.oauth_config, None);
        assert!(app.not_collected.is_empty());
    }

    #[test]
    fn a_long_non_boolean_is_never_quoted() {
        let token = "00DXX0000000001!AQ4AQSecretSessionIdThatAnOrgEchoed";
        let xml = format!(
            "<ConnectedApp xmlns=\"http://soap.sforce.com/2006/04/metadata\"><oauthConfig><isAdminApproved>{token}</isAdminApproved></oauthConfig></ConnectedApp>"
        );
        let e = parse_metadata_file(MetadataKind::ConnectedApp, "A", "a.xml", xml.as_bytes())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(!e.contains("00DXX"), "{e}");
        assert!(e.contains("a 51-character value"), "{e}");
    }

    #[test]
    fn refresh_token_rotation_is_read_with_its_position() {
        let xml = "<ConnectedApp xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n  <oauthConfig>\n    <isRefreshTokenRotationEnabled>true</isRefreshTokenRotationEnabled>\n  </oauthConfig>\n</ConnectedApp>\n";
        let Ok(ParsedComponent::ConnectedApp(app)) =
            parse_metadata_file(MetadataKind::ConnectedApp, "A", "a.xml", xml.as_bytes())
        else {
            panic!("not a connected app");
        };
        let c = app.oauth_config.unwrap();
        assert_eq!(c.is_refresh_token_rotation_enabled, Some(true));
        assert_eq!(
            c.locations
                .get(&OauthConfigField::is_refresh_token_rotation_enabled)
                .map(Origin::display)
                .as_deref(),
            Some("a.xml:3")
        );
    }
}
