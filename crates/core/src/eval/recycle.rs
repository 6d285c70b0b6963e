//! The vectors of an [`Evaluation`] recycled between decisions on one thread, so that a warm
//! `evaluate()` makes no heap allocation (issue 16) while its result keeps plain `Vec`s.
//!
//! Dropping an `Evaluation` gives its gate list and each gate's list of matched statements
//! back to this thread's spares, emptied; `evaluate()` takes them from there before it
//! allocates. A thread keeps at most a few dozen small vectors, never a large one, so the memory
//! held stays bounded. A result that is kept (not dropped) simply does not give its vectors
//! back: the next decision allocates as before.

use std::cell::RefCell;

use super::engine::{Evaluation, GateResult, MatchedStatement};

/// Gate lists kept per thread.
const KEEP_GATE_LISTS: usize = 8;
/// Matched-statement lists kept per thread (one per gate that matched a statement).
const KEEP_MATCHED_LISTS: usize = 64;
/// A vector larger than this is freed rather than kept.
const MAX_KEPT_CAPACITY: usize = 64;

struct Spares {
    gates: Vec<Vec<GateResult>>,
    matched: Vec<Vec<MatchedStatement>>,
}

thread_local! {
    static SPARES: RefCell<Spares> = const {
        RefCell::new(Spares {
            gates: Vec::new(),
            matched: Vec::new(),
        })
    };
}

/// An empty gate list: a spare one when this thread has it, else a new one with room for
/// `capacity` gates.
pub(super) fn gate_list(capacity: usize) -> Vec<GateResult> {
    SPARES
        .try_with(|s| s.try_borrow_mut().ok()?.gates.pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(capacity))
}

/// An empty list of matched statements: a spare one when this thread has it, else a new one.
pub(super) fn matched_list() -> Vec<MatchedStatement> {
    SPARES
        .try_with(|s| s.try_borrow_mut().ok()?.matched.pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| Vec::with_capacity(4))
}

impl Drop for Evaluation {
    fn drop(&mut self) {
        let mut gates = std::mem::take(&mut self.gates);
        if gates.capacity() == 0 {
            return;
        }
        // At thread exit the spares may be gone already: the vectors are then simply freed.
        let _ = SPARES.try_with(|s| {
            let Ok(mut spares) = s.try_borrow_mut() else {
                return;
            };
            for g in gates.drain(..) {
                let mut m = g.matched;
                if m.capacity() > 0
                    && m.capacity() <= MAX_KEPT_CAPACITY
                    && spares.matched.len() < KEEP_MATCHED_LISTS
                {
                    m.clear();
                    spares.matched.push(m);
                }
            }
            if gates.capacity() <= MAX_KEPT_CAPACITY && spares.gates.len() < KEEP_GATE_LISTS {
                spares.gates.push(gates);
            }
        });
    }
}
