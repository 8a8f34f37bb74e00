//! The pools the generated names are drawn from — places, authorities,
//! IT-Fachverfahren, people — and the slugs made from them.

use std::collections::HashSet;

use crate::domain::slug::MAX_SLUG_LEN;

/// German towns and cities the authorities are at.
pub(super) const PLACES: &[&str] = &[
    "Aachen",
    "Bamberg",
    "Bayreuth",
    "Bielefeld",
    "Bochum",
    "Bonn",
    "Bottrop",
    "Braunschweig",
    "Bremerhaven",
    "Celle",
    "Chemnitz",
    "Coburg",
    "Cottbus",
    "Darmstadt",
    "Dessau",
    "Detmold",
    "Dortmund",
    "Dresden",
    "Duisburg",
    "Düren",
    "Eisenach",
    "Erfurt",
    "Erlangen",
    "Essen",
    "Flensburg",
    "Freiburg",
    "Fulda",
    "Gera",
    "Gießen",
    "Görlitz",
    "Göttingen",
    "Greifswald",
    "Güstrow",
    "Hagen",
    "Halle",
    "Hameln",
    "Hamm",
    "Hanau",
    "Heilbronn",
    "Hildesheim",
    "Ingolstadt",
    "Jena",
    "Kaiserslautern",
    "Karlsruhe",
    "Kassel",
    "Kempten",
    "Kiel",
    "Koblenz",
    "Konstanz",
    "Krefeld",
    "Landshut",
    "Leipzig",
    "Lübeck",
    "Lüneburg",
    "Magdeburg",
    "Mainz",
    "Marburg",
    "Minden",
    "Münster",
    "Neubrandenburg",
    "Nürnberg",
    "Oldenburg",
    "Osnabrück",
    "Paderborn",
    "Passau",
    "Potsdam",
    "Regensburg",
    "Rosenheim",
    "Rostock",
    "Saarbrücken",
    "Schwerin",
    "Siegen",
    "Stralsund",
    "Suhl",
    "Trier",
    "Tübingen",
    "Ulm",
    "Weimar",
    "Wismar",
    "Worms",
    "Würzburg",
    "Zwickau",
];

/// (name template, slug prefix) of an authority at a place.
pub(super) const AUTHORITIES: &[(&str, &str)] = &[
    ("Stadt {}", ""),
    ("Landkreis {}", "lk-"),
    ("Jobcenter {}", "jc-"),
    ("Polizeipräsidium {}", "pp-"),
    ("Amtsgericht {}", "ag-"),
    ("Finanzamt {}", "fa-"),
    ("Hochschule {}", "hs-"),
    ("Zweckverband Kommunale IT {}", "zv-"),
];

/// IT-Fachverfahren: (name, slug).
pub(super) const APPLICATIONS: &[(&str, &str)] = &[
    ("Bürgerservice-Portal", "buergerservice"),
    ("Kfz-Zulassung", "kfz-zulassung"),
    ("Melderegister", "melderegister"),
    ("Gewerberegister", "gewerbe"),
    ("Digitaler Bauantrag", "bauantrag"),
    ("Sozialhilfe-Fachverfahren", "sozialhilfe"),
    ("Wohngeld", "wohngeld"),
    ("Elterngeld", "elterngeld"),
    ("Personalausweisbehörde", "ausweis"),
    ("Standesamt", "standesamt"),
    ("Ordnungswidrigkeiten", "owi"),
    ("Hundesteuer", "hundesteuer"),
    ("Grundsteuer", "grundsteuer"),
    ("E-Akte", "e-akte"),
    ("Ratsinformationssystem", "ratsinfo"),
    ("Schulverwaltung", "schulverwaltung"),
    ("Kita-Platzvergabe", "kita-portal"),
    ("BAföG-Antrag", "bafoeg"),
    ("Waffenrecht", "waffenrecht"),
    ("Fischereischein", "fischereischein"),
    ("Abfallwirtschaft", "abfall"),
    ("Friedhofsverwaltung", "friedhof"),
    ("E-Vergabe", "vergabe"),
    ("Haushaltswesen", "haushalt"),
    ("Personalverwaltung", "personal"),
    ("Zeiterfassung", "zeiterfassung"),
    ("Geodatenportal", "geoportal"),
    ("Wahlen", "wahlen"),
    ("Zensus-Auswertung", "zensus"),
    ("Ausländerbehörde", "auslaenderbehoerde"),
    ("Jugendhilfe", "jugendhilfe"),
    ("Unterhaltsvorschuss", "unterhaltsvorschuss"),
    ("Einbürgerung", "einbuergerung"),
    ("Bewohnerparkausweise", "parkausweise"),
    ("Sondernutzung", "sondernutzung"),
    ("Veranstaltungsanzeigen", "veranstaltungen"),
    ("Baumkataster", "baumkataster"),
    ("Denkmalschutz", "denkmalschutz"),
    ("Immissionsschutz", "immissionsschutz"),
    ("Lebensmittelüberwachung", "lebensmittel"),
    ("Veterinärwesen", "veterinaer"),
    ("Gesundheitsamt", "gesundheitsamt"),
    ("Fahrerlaubnis", "fahrerlaubnis"),
    ("Bußgeldstelle", "bussgeld"),
    ("Beihilfe", "beihilfe"),
    ("Kassenverfahren", "kasse"),
    ("Dokumentenmanagement", "dms"),
    ("Terminvereinbarung", "termine"),
    ("Online-Antragsportal", "antragsportal"),
    ("Schulstatistik", "schulstatistik"),
];

/// First and last names of the generated Systempfleger:innen.
pub(super) const FIRST_NAMES: &[&str] = &[
    "Anna", "Bernd", "Claudia", "Dieter", "Elif", "Frank", "Gabriele", "Hans", "Ines", "Jan",
    "Katrin", "Lukas", "Maria", "Nils", "Olga", "Peter", "Rita", "Stefan", "Tanja", "Uwe",
    "Vanessa", "Wolfgang", "Yasemin", "Zoran",
];
pub(super) const LAST_NAMES: &[&str] = &[
    "Becker",
    "Braun",
    "Fischer",
    "Hoffmann",
    "Keller",
    "Klein",
    "Koch",
    "Krüger",
    "Lange",
    "Meyer",
    "Müller",
    "Neumann",
    "Öztürk",
    "Richter",
    "Schäfer",
    "Schmidt",
    "Schneider",
    "Schulz",
    "Wagner",
    "Weber",
    "Wolf",
    "Zimmermann",
];

/// `Görlitz` → `goerlitz`: a DNS-label-safe slug part.
pub(super) fn slugify(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars().flat_map(char::to_lowercase) {
        match ch {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'a'..='z' | '0'..='9' => out.push(ch),
            _ => {
                if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
            }
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// `base`, or `base-2`, `base-3` … whichever is free, within the slug length.
pub(super) fn unique_slug(base: &str, taken: &mut HashSet<String>) -> String {
    let fit = |s: &str, room: usize| -> String {
        let mut s: String = s.chars().take(room).collect();
        while s.ends_with('-') {
            s.pop();
        }
        s
    };
    let mut candidate = fit(base, MAX_SLUG_LEN);
    let mut n = 2;
    while taken.contains(&candidate) {
        let suffix = format!("-{n}");
        candidate = format!("{}{suffix}", fit(base, MAX_SLUG_LEN - suffix.len()));
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_friendly_and_unique() {
        assert_eq!(slugify("Görlitz"), "goerlitz");
        assert_eq!(slugify("Saarbrücken"), "saarbruecken");
        let mut taken = HashSet::new();
        assert_eq!(
            unique_slug("kv-neubrandenburg", &mut taken),
            "kv-neubrandenburg"
        );
        assert_eq!(
            unique_slug("kv-neubrandenburg", &mut taken),
            "kv-neubrandenburg-2"
        );
        let long = "zv-kaiserslautern-und-umgebung";
        let a = unique_slug(long, &mut taken);
        let b = unique_slug(long, &mut taken);
        assert!(a.len() <= MAX_SLUG_LEN && b.len() <= MAX_SLUG_LEN && a != b);
        assert!(crate::domain::Slug::parse(&b).is_ok());
    }
}
