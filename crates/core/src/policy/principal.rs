//! The `Principal` / `NotPrincipal` element: `"*"` or a map of `AWS`, `Service`, `Federated`
//! and `CanonicalUser` to one value or a list.

/// Which kind of principal identifier a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalKind {
    pub fn name(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "AWS" => Some(PrincipalKind::Aws),
            "Service" => Some(PrincipalKind::Service),
            "Federated" => Some(PrincipalKind::Federated),
            "CanonicalUser" => Some(PrincipalKind::CanonicalUser),
            _ => None,
        }
    }
}

/// One `"AWS": [...]`-style entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub kind: PrincipalKind,
    pub values: Vec<String>,
    /// Whether the values were written as a list.
    pub as_list: bool,
}

/// A parsed principal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    /// `"Principal": "*"`.
    Any,
    Entries(Vec<PrincipalEntry>),
}
