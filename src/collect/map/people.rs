//! Users, their profiles, permission sets and assignments (from the user queries' child
//! subqueries and the profile-owned set queries), and the sets' `VoiceCall` object permissions.

use serde_json::Value;

use super::record::{collection_origin, mark, record_origin, rows_collection};
use crate::collect::fallback::{ProfileApiNames, english_profile_name, profile_api_names};
use crate::collect::gathered::Gathered;
use crate::collect::rest::{boolean, child_rows, has, string};
use crate::collect::soql::{ModelField, OptionalField, QueryId};
use crate::snapshot::model::{
    Collection, ObjectPermission, Origin, PermissionSet, PermissionSetAssignment,
    PermissionSetAssignmentField, PermissionSetField, Profile, Record, Snapshot, User, UserField,
};

fn user_from_row(row: &Value) -> User {
    User {
        id: string(row, "Id").unwrap_or_default(),
        username: string(row, "Username").unwrap_or_default(),
        name: string(row, "Name"),
        is_active: boolean(row, "IsActive"),
        user_type: string(row, "UserType"),
        profile_id: string(row, "ProfileId"),
        profile_name: string(row, "Profile.Name"),
        source: Some(record_origin("User", row)),
        ..User::default()
    }
}

/// The dropped optional fields of one record type (`pick` keeps its fields), with why.
fn dropped_for<'a, K>(
    dropped: &'a [(OptionalField, String)],
    pick: impl Fn(ModelField) -> Option<K> + 'a,
) -> impl Iterator<Item = (K, &'a str)> + 'a {
    dropped
        .iter()
        .filter_map(move |(f, reason)| Some((pick(f.field)?, reason.as_str())))
}

fn set_field(f: ModelField) -> Option<PermissionSetField> {
    match f {
        ModelField::PermissionSet(f) => Some(f),
        _ => None,
    }
}

fn assignment_field(f: ModelField) -> Option<PermissionSetAssignmentField> {
    match f {
        ModelField::Assignment(f) => Some(f),
        _ => None,
    }
}

fn permission_set_from(row: &Value, prefix: &str, id: String) -> PermissionSet {
    let get = |f: &str| format!("{prefix}{f}");
    PermissionSet {
        id: id.clone(),
        name: string(row, &get("Name")),
        label: string(row, &get("Label")),
        namespace: string(row, &get("NamespacePrefix")),
        is_owned_by_profile: boolean(row, &get("IsOwnedByProfile")),
        profile_id: string(row, &get("ProfileId")),
        api_enabled: boolean(row, &get("PermissionsApiEnabled")),
        call_coaching_user: boolean(row, &get("PermissionsCallCoachingUser")),
        ci_partner_integration_user: boolean(row, &get("PermissionsCIPartnerIntegrationUser")),
        source: Some(Origin::Record {
            object: "PermissionSet".to_string(),
            id: Some(id),
        }),
        ..PermissionSet::default()
    }
}

/// Adds or completes a permission set (the same set comes from several users' assignments).
fn upsert_set(sets: &mut Vec<PermissionSet>, new: PermissionSet) {
    let Some(old) = sets.iter_mut().find(|s| s.id == new.id) else {
        sets.push(new);
        return;
    };
    old.fill_missing_from(
        &new,
        &[
            PermissionSetField::name,
            PermissionSetField::label,
            PermissionSetField::namespace,
            PermissionSetField::is_owned_by_profile,
            PermissionSetField::profile_id,
            PermissionSetField::api_enabled,
            PermissionSetField::call_coaching_user,
            PermissionSetField::ci_partner_integration_user,
        ],
    );
}

pub(super) fn map_people(g: &Gathered, s: &mut Snapshot) {
    let primary = if g.queries.contains_key(&QueryId::IntegrationUser) {
        QueryId::IntegrationUser
    } else {
        QueryId::CandidateUsers
    };
    if let Some(Err(reason)) = g.rows(primary) {
        s.users = Collection::not_collected(reason);
        s.profiles = Collection::not_collected(reason);
        s.permission_sets = Collection::not_collected(reason);
        s.permission_set_assignments = Collection::not_collected(reason);
        return;
    }
    let mut users: Vec<User> = Vec::new();
    let mut sets: Vec<PermissionSet> = Vec::new();
    let mut assignments: Vec<PermissionSetAssignment> = Vec::new();
    for id in [
        QueryId::IntegrationUser,
        QueryId::CandidateUsers,
        QueryId::CandidateUsersByName,
        QueryId::GuestUser,
        QueryId::SiteAdmin,
        QueryId::DefaultOwner,
    ] {
        let Some(Ok((rows, dropped))) = g.rows(id) else {
            continue;
        };
        for row in rows {
            let user = user_from_row(row);
            if user.id.is_empty() {
                continue;
            }
            for a in child_rows(row) {
                let Some(set_id) = string(a, "PermissionSetId") else {
                    continue;
                };
                let mut assignment = PermissionSetAssignment {
                    id: string(a, "Id"),
                    assignee_id: string(a, "AssigneeId").unwrap_or_else(|| user.id.clone()),
                    permission_set_id: set_id.clone(),
                    permission_set_group_id: string(a, "PermissionSetGroupId"),
                    is_active: boolean(a, "IsActive"),
                    expiration_date: string(a, "ExpirationDate"),
                    source: Some(record_origin("PermissionSetAssignment", a)),
                    ..PermissionSetAssignment::default()
                };
                for (f, reason) in dropped_for(dropped, assignment_field) {
                    mark(&mut assignment, &[f], reason);
                }
                if !assignments
                    .iter()
                    .any(|x| x.id.is_some() && x.id == assignment.id)
                {
                    assignments.push(assignment);
                }
                if has(a, "PermissionSet") {
                    let mut set = permission_set_from(a, "PermissionSet.", set_id);
                    for (f, reason) in dropped_for(dropped, set_field) {
                        mark(&mut set, &[f], reason);
                    }
                    upsert_set(&mut sets, set);
                }
            }
            if !users.iter().any(|u| u.id == user.id) {
                users.push(user);
            }
        }
    }
    let mut sets_reason = None;
    for id in [
        QueryId::ProfilePermissionSets,
        QueryId::CandidateProfilePermissionSets,
    ] {
        match g.rows(id) {
            Some(Ok((rows, dropped))) => {
                for row in rows {
                    let Some(set_id) = string(row, "Id") else {
                        continue;
                    };
                    let mut set = permission_set_from(row, "", set_id);
                    for (f, reason) in dropped_for(dropped, set_field) {
                        mark(&mut set, &[f], reason);
                    }
                    upsert_set(&mut sets, set);
                }
            }
            Some(Err(reason)) => {
                // Only a gap when a primary user's profile set is still unknown.
                let primary_profiles: Vec<&String> = users
                    .iter()
                    .filter(|u| primary_user_ids(g, primary).contains(&u.id))
                    .filter_map(|u| u.profile_id.as_ref())
                    .collect();
                let covered = primary_profiles.iter().all(|p| {
                    sets.iter().any(|s| {
                        s.is_owned_by_profile == Some(true) && s.profile_id.as_ref() == Some(*p)
                    })
                });
                if !covered {
                    sets_reason = Some(format!(
                        "the integration user's profile permission set: {reason}"
                    ));
                }
            }
            None => {}
        }
    }
    let api_names = profile_api_names(g);
    let mut profiles: Vec<Profile> = Vec::new();
    for u in &mut users {
        name_profile_by_api_name(u, &api_names);
        if let (Some(id), Some(name)) = (&u.profile_id, &u.profile_name)
            && !profiles.iter().any(|p| p.id.as_ref() == Some(id))
        {
            let (api_name, display_name) = match api_names.get(id) {
                Some(Ok((api, display))) => {
                    (Some(api.clone()), display.clone().filter(|d| d != name))
                }
                _ => (None, None),
            };
            profiles.push(Profile {
                id: Some(id.clone()),
                name: name.clone(),
                api_name,
                display_name,
                source: Some(Origin::Record {
                    object: "Profile".to_string(),
                    id: Some(id.clone()),
                }),
                ..Profile::default()
            });
        }
    }
    // Only the users the audit looked for: a miss proves nothing about anyone else.
    s.users = Collection::collected(users, Some(collection_origin("User"))).requested_only();
    s.profiles = Collection::collected(profiles, Some(collection_origin("Profile")));
    s.permission_sets = match sets_reason {
        Some(reason) => Collection::not_collected(reason),
        None => Collection::collected(sets, Some(collection_origin("PermissionSet"))),
    };
    s.permission_set_assignments = Collection::collected(
        assignments,
        Some(collection_origin("PermissionSetAssignment")),
    );
}

/// The standard profiles' names come back translated for an auditing user whose language is
/// not English: a profile whose API name (`FullName`) is a standard one is named by the English
/// display name the rules compare with (as a profile file's name is offline), and the
/// translated name is kept as the profile's `display_name`. Without the API name, a name that
/// is not an English standard one proves nothing: it may be a translation.
fn name_profile_by_api_name(user: &mut User, api_names: &ProfileApiNames) {
    let (Some(id), Some(name)) = (user.profile_id.clone(), user.profile_name.clone()) else {
        return;
    };
    match english_profile_name(api_names, Some(&id), Some(&name)) {
        Ok(english) => user.profile_name = english,
        Err(tail) => {
            user.not_collected
                .insert(UserField::profile_name, format!("profile `{name}`: {tail}"));
            user.profile_name = None;
        }
    }
}

fn primary_user_ids(g: &Gathered, primary: QueryId) -> Vec<String> {
    match g.rows(primary) {
        Some(Ok((rows, _))) => rows.iter().filter_map(|r| string(r, "Id")).collect(),
        _ => Vec::new(),
    }
}

/// The `VoiceCall` object permissions of the permission sets read.
pub(super) fn object_permissions(g: &Gathered) -> Collection<ObjectPermission> {
    rows_collection(
        g,
        QueryId::VoiceCallObjectPermissions,
        "ObjectPermissions",
        object_permission,
    )
}

fn object_permission(row: &Value) -> ObjectPermission {
    ObjectPermission {
        parent_id: string(row, "ParentId").unwrap_or_default(),
        object: string(row, "SobjectType").unwrap_or_default(),
        read: boolean(row, "PermissionsRead").unwrap_or(false),
        create: boolean(row, "PermissionsCreate").unwrap_or(false),
        edit: boolean(row, "PermissionsEdit").unwrap_or(false),
        view_all: boolean(row, "PermissionsViewAllRecords").unwrap_or(false),
        source: Some(record_origin("ObjectPermissions", row)),
        ..ObjectPermission::default()
    }
}
