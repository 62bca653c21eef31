//! The console: its state and one update function (`app`, with the sign-in, action and export flows in `flows`),
//! the pane and its paging window (`pane`), the way back along jumps (`nav`), the dialogs
//! (`forms`), the keys (`keymap`), the jobs
//! and messages (`messages`) and the worker that runs jobs off the UI loop (`worker`). It draws
//! nothing: `ui` reads its state, and the terminal's event loop (`cli::terminal`) ties the two.

pub mod app;
mod flows;
pub mod forms;
pub mod keymap;
pub mod live;
pub mod log;
pub mod messages;
pub mod nav;
pub mod pane;
pub mod worker;
