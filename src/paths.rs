//! Where Switchboard keeps its files: the private cluster under the user's data directory, logs
//! under the state directory (XDG on Linux, `~/Library/Application Support` on macOS).

use std::path::PathBuf;

use directories::ProjectDirs;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// Holds the private cluster (`pg/`).
    pub data_dir: PathBuf,
    /// Holds `switchboard.log`.
    pub state_dir: PathBuf,
    /// Holds `config.toml`.
    pub config_dir: PathBuf,
}

impl AppPaths {
    pub fn detect() -> Option<AppPaths> {
        let dirs = ProjectDirs::from("", "", "switchboard")?;
        Some(AppPaths {
            data_dir: dirs.data_dir().to_path_buf(),
            state_dir: dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_local_dir())
                .to_path_buf(),
            config_dir: dirs.config_dir().to_path_buf(),
        })
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("switchboard.log")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn cluster_dir(&self) -> PathBuf {
        self.data_dir.join("pg")
    }
}
