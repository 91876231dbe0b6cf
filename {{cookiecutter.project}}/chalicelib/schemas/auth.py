"""Who is calling: the signed-in user as the services see it (no HTTP, no token)."""

from pydantic import BaseModel, ConfigDict

# The user pool group whose members may read any user and manage the catalogue.
ADMIN_GROUP = "admin"


class Principal(BaseModel):
    """The signed-in caller: their user id (the token's `sub`) and whether they are an admin."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    is_admin: bool = False

    def owns(self, owner_id: str) -> bool:
        """True when the resource belongs to the caller."""
        return owner_id == self.user_id

    def may_read(self, owner_id: str) -> bool:
        """True when the caller may read a resource of owner_id: their own, or anyone's for an admin."""
        return self.is_admin or self.owns(owner_id)
