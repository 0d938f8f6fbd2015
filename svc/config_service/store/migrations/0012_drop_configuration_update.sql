-- configuration_update (0009) has not been called since 0010's configuration_put replaced it;
-- it stayed for the instances of the release before 0010 during a rolling upgrade. The
-- release before this one calls configuration_put only, and nothing in the service or its
-- tests names configuration_update: dead code, dropped.
DROP FUNCTION configuration_update(text, text, text, jsonb, integer);
