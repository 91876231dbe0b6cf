"""HTTP routes: parse the request into a schema, call one service, return a schema."""
