//! What the server tells its operators: metrics, traces, log hygiene, the audit trail of writes and
//! the notes it leaves in ilert's alert timeline.

pub mod attribution;
pub mod audit;
pub mod logsafe;
pub mod metrics;
pub mod traces;
