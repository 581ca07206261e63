//! The reception policy as versioned data (being written).

use serde::{Deserialize, Serialize};

/// Every published policy version (placeholder: the domain helper fills this in).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyBook {}
