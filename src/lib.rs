//! mixconv (work in progress)
