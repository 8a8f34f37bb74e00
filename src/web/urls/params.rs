//! The small parameters some addresses carry: where a Revision page starts,
//! the notes shown after a step and the Glossar's terms (the list filters
//! and pre-filled forms are in `queries`).

/// Where a page of the Revision starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionStart {
    Newest,
    /// Entries older than this one (`vor=`).
    Older(i64),
    /// Entries newer than this one (`nach=`).
    Newer(i64),
}

/// What just happened to a booking, for the note on its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingNotice {
    Booked,
    Resized,
    Cancelled,
}

impl BookingNotice {
    /// The query parameter that carries it (its value is `1`).
    pub const fn key(self) -> &'static str {
        match self {
            BookingNotice::Booked => "gebucht",
            BookingNotice::Resized => "geaendert",
            BookingNotice::Cancelled => "gekuendigt",
        }
    }
}

/// The note after a promotion or deployment step (`?hinweis=…` on the
/// stages and the inbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hinweis {
    Beantragt,
    Genehmigt,
    Abgelehnt,
    Zurueckgezogen,
    Wiederholt,
    KontingentBeantragt,
    KontingentGenehmigt,
    KontingentAbgelehnt,
    KontingentZurueckgezogen,
    KontingentMitgezeichnet,
}

impl Hinweis {
    pub const ALL: [Hinweis; 10] = [
        Hinweis::Beantragt,
        Hinweis::Genehmigt,
        Hinweis::Abgelehnt,
        Hinweis::Zurueckgezogen,
        Hinweis::Wiederholt,
        Hinweis::KontingentBeantragt,
        Hinweis::KontingentGenehmigt,
        Hinweis::KontingentAbgelehnt,
        Hinweis::KontingentZurueckgezogen,
        Hinweis::KontingentMitgezeichnet,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Hinweis::Beantragt => "beantragt",
            Hinweis::Genehmigt => "genehmigt",
            Hinweis::Abgelehnt => "abgelehnt",
            Hinweis::Zurueckgezogen => "zurueckgezogen",
            Hinweis::Wiederholt => "wiederholt",
            Hinweis::KontingentBeantragt => "kontingent-beantragt",
            Hinweis::KontingentGenehmigt => "kontingent-genehmigt",
            Hinweis::KontingentAbgelehnt => "kontingent-abgelehnt",
            Hinweis::KontingentZurueckgezogen => "kontingent-zurueckgezogen",
            Hinweis::KontingentMitgezeichnet => "kontingent-mitgezeichnet",
        }
    }

    /// The note an address names; an unknown one (an old bookmark) is none.
    pub fn parse(code: &str) -> Option<Hinweis> {
        Hinweis::ALL.into_iter().find(|h| h.as_str() == code)
    }
}

/// A term the Glossar explains; its anchor there (`/glossar#kontingent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    Kontingent,
    Buchung,
    Groesse,
    Stufe,
    Umgebung,
    Lieferung,
    Checkup,
    Freigabe,
}

impl Term {
    /// In the order the Glossar explains them: what is booked, then how a
    /// release travels.
    pub const ALL: [Term; 8] = [
        Term::Kontingent,
        Term::Buchung,
        Term::Groesse,
        Term::Stufe,
        Term::Umgebung,
        Term::Lieferung,
        Term::Checkup,
        Term::Freigabe,
    ];

    pub const fn anchor(self) -> &'static str {
        match self {
            Term::Kontingent => "kontingent",
            Term::Buchung => "buchung",
            Term::Groesse => "groesse",
            Term::Stufe => "stufe",
            Term::Umgebung => "umgebung",
            Term::Lieferung => "lieferung",
            Term::Checkup => "checkup",
            Term::Freigabe => "freigabe",
        }
    }
}
