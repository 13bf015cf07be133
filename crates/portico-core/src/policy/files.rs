//! V3: whether a photo or file is shared with the client when the host does not say.

use std::collections::HashSet;

use crate::model::{FileId, Org, WorkOrder};

/// Decides `shared` for the files of `new` whose upsert did not say it: a file the work order
/// already had keeps its flag (staff may have kept it private, or shared it); a new file takes
/// the org's "photos shared by default" setting (V3).
pub fn decide_unsaid_sharing<S: std::hash::BuildHasher>(
    old: Option<&WorkOrder>,
    new: &mut WorkOrder,
    unsaid: &HashSet<FileId, S>,
    org: &Org,
) {
    for file in new.files.iter_mut().filter(|f| unsaid.contains(&f.id)) {
        file.shared = old
            .and_then(|o| o.files.iter().find(|f| f.id == file.id))
            .map_or(org.settings.photos_shared_by_default, |f| f.shared);
    }
}
