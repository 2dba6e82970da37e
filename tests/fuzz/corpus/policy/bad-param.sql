-- id: a
-- title: t
-- severity: low
-- param: x = [1,
SELECT 1
