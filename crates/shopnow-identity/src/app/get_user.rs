//! Read a user: the user themself or an admin; anyone else gets "not found" so ids cannot be
//! probed.

use shopnow_kernel::auth::Principal;

use crate::IdentityError;
use crate::domain::UserView;
use crate::ports::Ports;

/// The user `id` as seen by `principal`.
///
/// # Errors
/// [`IdentityError::NotFound`] when it does not exist, was erased, or `principal` is neither
/// that user nor an admin.
pub fn get_user(
    ports: &Ports<'_>,
    principal: &Principal,
    id: &str,
) -> Result<UserView, IdentityError> {
    if !principal.is_self_or_admin(id) {
        return Err(IdentityError::NotFound);
    }
    ports
        .users
        .find_by_id(id)?
        .map(|u| UserView::from(&u))
        .ok_or(IdentityError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Harness;
    use shopnow_kernel::auth::{Role, Roles};

    fn principal(id: &str, roles: &[Role]) -> Principal {
        Principal {
            user_id: id.into(),
            roles: roles.iter().copied().collect::<Roles>(),
        }
    }

    #[test]
    fn self_and_admin_see_the_user_strangers_get_not_found() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let id = h.user_id();
        assert!(get_user(&h.ports(), &principal(&id, &[Role::Customer]), &id).is_ok());
        assert!(get_user(&h.ports(), &principal("admin-1", &[Role::Admin]), &id).is_ok());
        assert!(matches!(
            get_user(&h.ports(), &principal("other", &[Role::Seller]), &id),
            Err(IdentityError::NotFound)
        ));
        assert!(matches!(
            get_user(&h.ports(), &principal("admin-1", &[Role::Admin]), "missing"),
            Err(IdentityError::NotFound)
        ));
    }
}
