//! The parameters some addresses carry: list filters kept in links, the
//! values of a pre-filled form, and the notes shown after a step.

/// The Revision's filters as they were typed, kept in links (paging,
/// exports); empty ones are left out of the address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionFilter {
    pub from: String,
    pub to: String,
    pub customer: String,
    pub object_type: String,
    pub object: String,
    pub action: String,
    pub person: String,
    pub text: String,
}

impl RevisionFilter {
    pub(super) fn query(&self) -> Vec<(&'static str, String)> {
        [
            ("von", &self.from),
            ("bis", &self.to),
            ("kunde", &self.customer),
            ("objektart", &self.object_type),
            ("objekt", &self.object),
            ("aktion", &self.action),
            ("person", &self.person),
            ("suche", &self.text),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

/// Where a page of the Revision starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionStart {
    Newest,
    /// Entries older than this one (`vor=`).
    Older(i64),
    /// Entries newer than this one (`nach=`).
    Newer(i64),
}

/// The bookings list's filter as it was typed, so that paging keeps it
/// (unknown values included: the list ignores them, the link keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingFilter {
    pub application: String,
    pub stage: String,
    pub state: String,
    pub product: String,
    pub size: String,
}

/// New ceilings as the request form takes them (whole vCPU, GiB, euros);
/// empty leaves a ceiling as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KontingentAsk {
    pub vcpu: String,
    pub memory_gib: String,
    pub storage_gib: String,
    pub monthly_budget: String,
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
