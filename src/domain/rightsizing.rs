//! Right-sizing: would what an environment actually used fit a smaller
//! booking? Measured peaks against the booked sizes.

use super::{Resources, Size};

/// An active booking of an environment, with the sizes its product comes in.
#[derive(Debug, Clone)]
pub struct Booked {
    pub booking_id: i64,
    pub product_name: String,
    pub size: Size,
    pub resources: Resources,
    /// Every size of the product with its resources, ascending.
    pub sizes: Vec<(Size, Resources)>,
}

/// A smaller size that would have covered the measured peak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub booking_id: i64,
    pub product_name: String,
    pub from: Size,
    pub to: Size,
}

fn dims(r: Resources) -> [i64; 4] {
    [r.millicpu, r.memory_mib, r.storage_gib, r.pods]
}

/// For each booking, the smallest smaller size of its product that would
/// still cover the environment's peak, given what the other bookings there
/// provide. Only the dimensions a product grants count for it (a storage
/// product is not judged by CPU).
pub fn hints(booked: &[Booked], peak: Resources) -> Vec<Hint> {
    let total = booked
        .iter()
        .fold(Resources::default(), |acc, b| acc + b.resources);
    let mut out = Vec::new();
    for b in booked {
        let others = dims(total - b.resources);
        let grants = dims(b.resources);
        let need: Vec<i64> = dims(peak)
            .iter()
            .zip(others)
            .map(|(p, o)| (p - o).max(0))
            .collect();
        let covers = |r: &Resources| {
            dims(*r)
                .iter()
                .zip(&need)
                .zip(grants)
                .all(|((have, need), granted)| granted == 0 || have >= need)
        };
        if let Some((size, _)) = b
            .sizes
            .iter()
            .filter(|(s, _)| *s < b.size)
            .find(|(_, r)| covers(r))
        {
            out.push(Hint {
                booking_id: b.booking_id,
                product_name: b.product_name.clone(),
                from: b.size,
                to: *size,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compute(vcpu: i64) -> Resources {
        Resources {
            millicpu: vcpu * 1000,
            memory_mib: vcpu * 4096,
            storage_gib: 0,
            pods: vcpu * 10,
        }
    }

    fn storage(gib: i64) -> Resources {
        Resources {
            storage_gib: gib,
            ..Resources::default()
        }
    }

    fn namespace(id: i64, size: Size) -> Booked {
        let sizes = vec![
            (Size::S, compute(2)),
            (Size::M, compute(4)),
            (Size::L, compute(8)),
            (Size::XL, compute(16)),
        ];
        let resources = sizes.iter().find(|(s, _)| *s == size).unwrap().1;
        Booked {
            booking_id: id,
            product_name: "Container-Namespace".into(),
            size,
            resources,
            sizes,
        }
    }

    fn disk(id: i64, size: Size) -> Booked {
        let sizes = vec![
            (Size::S, storage(50)),
            (Size::M, storage(100)),
            (Size::L, storage(250)),
            (Size::XL, storage(500)),
        ];
        let resources = sizes.iter().find(|(s, _)| *s == size).unwrap().1;
        Booked {
            booking_id: id,
            product_name: "Persistenter Speicher".into(),
            size,
            resources,
            sizes,
        }
    }

    #[test]
    fn a_namespace_used_at_a_third_fits_the_next_smaller_size_that_covers_the_peak() {
        // L is 8 vCPU; a peak of 3 vCPU / 10 GiB fits M (4 vCPU / 16 GiB), not S.
        let peak = Resources {
            millicpu: 3000,
            memory_mib: 10 * 1024,
            storage_gib: 0,
            pods: 12,
        };
        let h = hints(&[namespace(1, Size::L)], peak);
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].from, h[0].to), (Size::L, Size::M));
    }

    #[test]
    fn a_busy_namespace_gets_no_hint() {
        let peak = Resources {
            millicpu: 7000,
            ..Resources::default()
        };
        assert!(hints(&[namespace(1, Size::L)], peak).is_empty());
        assert!(hints(&[namespace(1, Size::S)], Resources::default()).is_empty());
    }

    #[test]
    fn storage_is_judged_by_storage_alone() {
        // 80 GiB used of an L (250 GiB) disk: M (100 GiB) would do. The
        // namespace beside it is busy and keeps its size.
        let peak = Resources {
            millicpu: 3900,
            memory_mib: 15 * 1024,
            storage_gib: 80,
            pods: 30,
        };
        let h = hints(&[namespace(1, Size::M), disk(2, Size::L)], peak);
        assert_eq!(
            h,
            [Hint {
                booking_id: 2,
                product_name: "Persistenter Speicher".into(),
                from: Size::L,
                to: Size::M
            }]
        );
    }

    #[test]
    fn two_bookings_of_one_product_share_the_load() {
        // Two M namespaces (8 vCPU together) with a peak of 5 vCPU: either
        // could be an S (2 + 4 = 6 vCPU ≥ 5).
        let peak = Resources {
            millicpu: 5000,
            memory_mib: 12 * 1024,
            storage_gib: 0,
            pods: 10,
        };
        let h = hints(&[namespace(1, Size::M), namespace(2, Size::M)], peak);
        assert_eq!(h.len(), 2);
        assert!(h.iter().all(|x| x.to == Size::S));
    }
}
