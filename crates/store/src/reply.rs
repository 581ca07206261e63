//! How the writer answers a caller: to an async task through a tokio oneshot, or to a
//! blocking thread through a std channel.
//!
//! A blocking caller must never drive a tokio receiver with a foreign executor
//! (`futures::executor::block_on`): inside a tokio task, once the task's cooperative
//! budget is spent, the receiver answers `Pending` and wakes itself at once, so a loop
//! of such calls spins forever (`reception restore` did). A std receive has no budget.

use std::sync::mpsc;

use tokio::sync::oneshot;

/// Where one answer of the writer goes.
pub(crate) enum Reply<T> {
    /// An async caller awaits it.
    Task(oneshot::Sender<T>),
    /// A blocking caller waits on `recv`.
    Thread(mpsc::SyncSender<T>),
}

impl<T> Reply<T> {
    /// Delivers the answer; `false` when the caller is gone (nothing to do then).
    pub(crate) fn send(self, value: T) -> bool {
        match self {
            Reply::Task(tx) => tx.send(value).is_ok(),
            Reply::Thread(tx) => tx.send(value).is_ok(),
        }
    }
}

/// A reply for an async caller.
pub(crate) fn for_task<T>() -> (Reply<T>, oneshot::Receiver<T>) {
    let (tx, rx) = oneshot::channel();
    (Reply::Task(tx), rx)
}

/// A reply for a blocking caller (one slot: the writer never waits on it).
pub(crate) fn for_thread<T>() -> (Reply<T>, mpsc::Receiver<T>) {
    let (tx, rx) = mpsc::sync_channel(1);
    (Reply::Thread(tx), rx)
}
