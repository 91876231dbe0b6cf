"""schemathesis hooks: the string formats whose service rules are narrower than the format's RFC.

An `email` may be any RFC 5322 address to a JSON Schema generator, but the service (email-validator)
refuses special-use domains such as `.test` and over-long labels; valid data must look like real mail.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format(
    "email", st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,30}@[a-z0-9-]{1,20}\.(com|org|net|io)\Z", fullmatch=True)
)
