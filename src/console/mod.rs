//! The console: its state and one update function (`app`, with the admin flows in `admin`),
//! the pane and its paging window (`pane`), the dialogs (`forms`), the keys (`keymap`), the jobs
//! and messages (`messages`), the worker that runs jobs off the UI loop (`worker`), and the event
//! loop that ties them to the terminal (`event_loop`).

mod admin;
pub mod app;
pub mod event_loop;
pub mod forms;
pub mod keymap;
pub mod messages;
pub mod pane;
pub mod worker;
