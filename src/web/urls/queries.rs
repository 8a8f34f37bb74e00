//! The typed query values of some addresses: list filters, searches and
//! orders as they were typed, so that links (paging, sorting, downloads)
//! keep them.

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

/// The bookings list's filter as it was typed, so that paging keeps it
/// (unknown values included: the list ignores them, the link keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingFilter {
    pub application: String,
    pub stage: String,
    pub state: String,
    pub product: String,
    pub size: String,
    /// The search text (`suche`).
    pub text: String,
    /// The order (`sortierung`): a field, with `-` in front for descending.
    pub sort: String,
}

impl BookingFilter {
    /// The filters that are given, for the CSV download.
    pub(super) fn given(&self) -> Vec<(&'static str, String)> {
        [
            ("verfahren", &self.application),
            ("stufe", &self.stage),
            ("status", &self.state),
            ("produkt", &self.product),
            ("groesse", &self.size),
            ("suche", &self.text),
            ("sortierung", &self.sort),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }
}

/// Which page a booking's state fragment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStateView {
    /// A row of the booking list: state and provisioning badges.
    Liste,
    /// The booking's own page: its Status and Bereitstellung values.
    Detail,
    /// The overview: the state badge alone.
    Kurz,
}

impl BookingStateView {
    pub const fn as_str(self) -> &'static str {
        match self {
            BookingStateView::Liste => "liste",
            BookingStateView::Detail => "detail",
            BookingStateView::Kurz => "kurz",
        }
    }

    /// The view an address names (none: a list row).
    pub fn parse(raw: Option<&str>) -> Option<BookingStateView> {
        match raw.unwrap_or_default() {
            "" | "liste" => Some(BookingStateView::Liste),
            "detail" => Some(BookingStateView::Detail),
            "kurz" => Some(BookingStateView::Kurz),
            _ => None,
        }
    }
}

/// A list's search and order as typed (`suche`, `sortierung`); empty ones
/// are left out of the address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub text: String,
    pub sort: String,
}

impl ListQuery {
    pub(super) fn query(&self) -> Vec<(&'static str, String)> {
        [("suche", &self.text), ("sortierung", &self.sort)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, v.clone()))
            .collect()
    }
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
