-- Whether an application of this name is in a token's scope (access/scope.py gives the
-- arguments): `*` alone (`everything`), an exact name, or a prefix (`prefixes` are LIKE
-- patterns with their `%`, `_` and `\` escaped). The list queries (applications/queries.py)
-- and the configuration writes decide scope by this one text. A one-line IMMUTABLE SQL
-- function: PostgreSQL inlines it, so a query that calls it plans as if the condition were
-- written out.
CREATE OR REPLACE FUNCTION application_in_scope(
    name text, everything boolean, exact text[], prefixes text[]
)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT everything OR name = ANY(exact) OR name LIKE ANY(prefixes)
$$;
