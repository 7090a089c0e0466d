// A school year of one canteen written straight into the app's IndexedDB, in the shape the
// repository writes (plain objects, keyPath meta.id, dates as ISO strings, enums in snake_case).
// Runs inside the page (page.evaluate), after the app has opened (and so created) the database.

/// Service days going back from today: Monday, Tuesday, Thursday, Friday (the usual 4-day
/// school week), `days` of them.
export function serviceDays(today, days) {
  const out = [];
  const d = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate()));
  while (out.length < days) {
    const wd = d.getUTCDay();
    if (wd === 1 || wd === 2 || wd === 4 || wd === 5) out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() - 1);
  }
  return out.reverse();
}

/// Seeds `days` service days with `perDay` weighings each. Returns what was written.
/// Deterministic masses (a small linear congruential generator), so runs compare.
export async function seedYear(page, { days = 200, perDay = 20 } = {}) {
  const dates = serviceDays(new Date(), days);
  return page.evaluate(
    async ({ dates, perDay }) => {
      const db = await new Promise((ok, ko) => {
        const r = indexedDB.open("assiette");
        r.onsuccess = () => ok(r.result);
        r.onerror = () => ko(r.error);
      });
      const profile = await new Promise((ok, ko) => {
        const r = db.transaction("kv").objectStore("kv").get("site_profile");
        r.onsuccess = () => ok(r.result);
        r.onerror = () => ko(r.error);
      });
      const site = profile.site_id;
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const stages = ["leftovers", "unserved", "preparation"];
      const components = ["entree", "plat_protidique", "accompagnement", "produit_laitier", "dessert", "pain", null];
      const now = new Date().toISOString();
      const meta = () => ({ id: crypto.randomUUID(), revision: 1, deleted: false, modified_at: now });
      const counts = [];
      const weighings = [];
      for (const date of dates) {
        const planned = 120 + Math.floor(rand() * 30);
        counts.push({ meta: meta(), site_id: site, service_date: date, planned, served_children: planned - Math.floor(rand() * 15), served_adults: 6 + Math.floor(rand() * 4) });
        for (let i = 0; i < perDay; i++) {
          weighings.push({
            meta: meta(),
            site_id: site,
            service_date: date,
            stage: stages[i % 3],
            component: components[i % 7],
            mass_grams: 200 + Math.floor(rand() * 1800),
            sorted: null,
            destination: null,
          });
        }
      }
      await new Promise((ok, ko) => {
        const tx = db.transaction(["meal_counts", "weighings"], "readwrite");
        for (const c of counts) tx.objectStore("meal_counts").put(c);
        for (const w of weighings) tx.objectStore("weighings").put(w);
        tx.oncomplete = ok;
        tx.onerror = () => ko(tx.error);
      });
      db.close();
      return { days: counts.length, weighings: weighings.length, first: dates[0], last: dates[dates.length - 1] };
    },
    { dates, perDay },
  );
}
