{% if cookiecutter.include_auth == 'y' -%}
"""Users REST API under load: signed-in users read and change their own profile; the admins page through everyone."""

import random
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, tag, task

from loadtests.common import WAIT_MAX_S, new_key, sign_in

MAX_PAGES = 3
ADMIN_SHARE = 0.2  # of the locust users, the share that signs in as admins (GET /users is theirs)


{% else -%}
"""Users REST API under load: a read-heavy CRUD mix with cursor pagination."""

import random
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, tag, task

from loadtests.common import WAIT_MAX_S, new_key

# Each user keeps a few users of its own so reads and writes never collide across users.
OWN_USERS = 5
MAX_PAGES = 3


{% endif -%}
def page_through_users(client: Any) -> None:
    """GET /users and follow the cursor for a few pages."""
    query = urlencode({"limit": 20})
    for _ in range(MAX_PAGES):
        with client.get(f"/users?{query}", name="/users [page]", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"list: {response.status_code}")
                return
            cursor = response.json().get("next")
        if not cursor:
            return
        query = urlencode({"limit": 20, "cursor": cursor})

{%- if cookiecutter.include_auth == 'y' %}


class UsersUser(FastHttpUser):
    """Signs in once (its token cached for the run), then reads its profile (most often), renames it, starts over;
    an admin also lists pages of users."""

    wait_time = between(0, WAIT_MAX_S)

    def on_start(self) -> None:
        """Sign in and save a profile: a user, or an admin."""
        self.is_admin = random.random() < ADMIN_SHARE
        self.user_id = sign_in(self.client, "admin" if self.is_admin else "user", ("admin",) if self.is_admin else ())

    @tag("users", "read")
    @task(12)
    def get_user(self) -> None:
        """GET /users/me, or the same profile by id."""
        path, name = random.choice([("/users/me", "/users/me"), (f"/users/{self.user_id}", "/users/{id}")])
        self.client.get(path, name=name)

    @tag("users", "read")
    @task(3)
    def list_users(self) -> None:
        """GET /users and follow the cursor for a few pages (admins; a user's GET /users/me instead)."""
        if not self.is_admin:
            self.client.get("/users/me", name="/users/me")
            return
        page_through_users(self.client)

    @tag("users", "write")
    @task(2)
    def rename_user(self) -> None:
        """PATCH /users/{id} (the caller's own) with a new name."""
        self.client.patch(f"/users/{self.user_id}", json={"name": f"Renamed {new_key()[:8]}"}, name="/users/{id}")

    @tag("users", "write")
    @task(1)
    def start_over(self) -> None:
        """DELETE the profile, then PUT /users/me again (a user who leaves and comes back)."""
        self.client.delete(f"/users/{self.user_id}", name="/users/{id}")
        body = {"name": "Load Test", "email": f"load-{new_key()}@example.com"}
        self.client.put("/users/me", json=body, name="/users/me")
{%- else %}


class UsersUser(FastHttpUser):
    """Reads one user (most often), lists pages, creates, renames and deletes."""

    wait_time = between(0, WAIT_MAX_S)

    def on_start(self) -> None:
        """Create the users this virtual user works on."""
        self.user_ids: list[str] = []
        for _ in range(OWN_USERS):
            self.create_user()

    def _create(self) -> str | None:
        body = {"name": "Load Test", "email": f"load-{new_key()}@example.com"}
        with self.client.post("/users", json=body, name="/users", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"create: {response.status_code}")
                return None
            user_id: str = response.json()["id"]
            return user_id

    @tag("users", "write")
    @task(2)
    def create_user(self) -> None:
        """POST /users with a unique email."""
        user_id = self._create()
        if user_id:
            self.user_ids.append(user_id)

    @tag("users", "read")
    @task(12)
    def get_user(self) -> None:
        """GET /users/{id} of one of this user's users."""
        if self.user_ids:
            self.client.get(f"/users/{random.choice(self.user_ids)}", name="/users/{id}")

    @tag("users", "read")
    @task(3)
    def list_users(self) -> None:
        """GET /users and follow the cursor for a few pages."""
        page_through_users(self.client)

    @tag("users", "write")
    @task(2)
    def rename_user(self) -> None:
        """PATCH /users/{id} with a new name."""
        if self.user_ids:
            body = {"name": f"Renamed {new_key()[:8]}"}
            self.client.patch(f"/users/{random.choice(self.user_ids)}", json=body, name="/users/{id}")

    @tag("users", "write")
    @task(1)
    def delete_user(self) -> None:
        """DELETE /users/{id}, then replace it so the pool stays the same size."""
        if len(self.user_ids) > 1:
            user_id = self.user_ids.pop(random.randrange(len(self.user_ids)))
            self.client.delete(f"/users/{user_id}", name="/users/{id}")
            self.create_user()
{%- endif %}
