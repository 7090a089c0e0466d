siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local
21010034300016r ,2022-05-02,90.11, PRODUITS_LAITIERS ,BIO,,,x
21010034300016,"Pommes, vertes",Le bon traiteur ,2022-05-03,910.11, PRODUITS_LAI