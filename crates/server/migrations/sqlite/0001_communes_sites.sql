-- Communes of the metropolis and their canteens (sites), keyed by the national identifiers.
CREATE TABLE communes (
    insee_code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE sites (
    siret TEXT PRIMARY KEY,
    commune_insee TEXT NOT NULL REFERENCES communes (insee_code),
    name TEXT NOT NULL,
    management_type TEXT NOT NULL,
    production_type TEXT NOT NULL,
    daily_meal_count INTEGER NOT NULL,
    yearly_meal_count INTEGER NOT NULL
);
