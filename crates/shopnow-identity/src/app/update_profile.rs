//! Update the caller's own profile (display name).

use shopnow_kernel::auth::Principal;

use crate::IdentityError;
use crate::domain::{DisplayName, UserView};
use crate::ports::Ports;

/// Sets `principal`'s display name.
///
/// # Errors
/// [`IdentityError::NotFound`] when the account no longer exists (erased).
pub fn update_profile(
    ports: &Ports<'_>,
    principal: &Principal,
    display_name: &DisplayName,
) -> Result<UserView, IdentityError> {
    ports
        .users
        .update_display_name(&principal.user_id, display_name, ports.clock.now_ms())?
        .map(|u| UserView::from(&u))
        .ok_or(IdentityError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Harness;

    #[test]
    fn renames_the_caller() {
        let h = Harness::with_user("ada@example.com", "violet-kettle-79-orbit");
        let view = update_profile(
            &h.ports(),
            &h.principal(),
            &DisplayName::parse("Countess").unwrap(),
        )
        .unwrap();
        assert_eq!(view.display_name, "Countess");
    }
}
