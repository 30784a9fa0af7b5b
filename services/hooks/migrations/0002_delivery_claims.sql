-- Each claim of a delivery gets its own token, and a worker records its attempt's outcome only
-- while its claim still holds. Before, a redelivery asked for while an attempt was in flight
-- was undone when that attempt's outcome was written (`delivered` over `pending`): the
-- redelivery answered 202 and never came. The attempt itself is still logged.

alter table deliveries add column claim uuid;
