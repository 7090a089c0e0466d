#!/usr/bin/env python3
"""Writes a national purchase CSV (ma cantine's 12 columns) of N lines for the EGalim
benchmark: 20 sites, 3 years, every family, labels (some quoted pairs), origins, local
definitions, quoted descriptions with a comma, prices with three decimals (the reference pandas script
rounds from thousandths, as national files have at most three decimals in practice).
Deterministic (xorshift), so every run reads the same file.

usage: python3 egalim_gen.py N OUT.csv
"""
import sys

FAMILIES = ["VIANDES_VOLAILLES", "CHARCUTERIE", "PRODUITS_DE_LA_MER", "FRUITS_ET_LEGUMES",
            "PRODUITS_LAITIERS", "BOULANGERIE", "BOISSONS", "AUTRES"]
LABELS = ["", "BIO", '"BIO,COMMERCE_EQUITABLE"', "LABEL_ROUGE", '"IGP,HVE"', "PECHE_DURABLE", "PERFORMANCE"]
ORIGINS = ["", "FRANCE", "EUROPE"]
LOCAL = [",,,", ",x,DEPARTEMENT,", "x,x,KM,40", "oui,non,,"]
MASK = (1 << 64) - 1


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    x = 0x2545F4914F6CDD1D
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,"
                "origine,est_circuit_court,est_local,definition_local,definition_local_km\n")
        lines = []
        for i in range(n):
            x ^= (x << 13) & MASK
            x ^= x >> 7
            x ^= (x << 17) & MASK
            site = 21010034300016 + (x % 20) * 1000
            year = 2023 + (x >> 8) % 3
            month = 1 + (x >> 12) % 12
            day = 1 + (x >> 16) % 28
            euros = (x >> 20) % 5000
            frac = (x >> 32) % 1000
            lines.append(
                f'{site},"Produit {i}, lot {x % 97}",Fournisseur {x % 13},{year}-{month:02}-{day:02},'
                f'{euros}.{frac:03},{FAMILIES[(x >> 40) % 8]},{LABELS[(x >> 44) % 7]},'
                f'{ORIGINS[(x >> 48) % 3]},{LOCAL[(x >> 52) % 4]}\n')
            if len(lines) == 10000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))


if __name__ == "__main__":
    main()
