-- id: a

  
-- title: t
-- severity: critical
  SELECT 1 AS leaf