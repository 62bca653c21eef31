//! The private cluster's pure parts: versions, paths, pid files, private directories.

use super::binaries::versioned_dirs;
use super::*;

#[test]
fn major_versions() {
    assert_eq!(
        parse_major_version("postgres (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)").as_deref(),
        Some("15")
    );
    assert_eq!(
        parse_major_version("postgres (PostgreSQL) 9.6.24").as_deref(),
        Some("9.6")
    );
    assert_eq!(
        parse_major_version("postgres (PostgreSQL) 17beta1").as_deref(),
        Some("17")
    );
    assert_eq!(parse_major_version("no digits here"), None);
}

#[test]
fn pid_file_of_a_vanished_process_is_stale() {
    // PID 0 and negative PIDs never name a server.
    assert_eq!(server_state_from_pid_file("0\n/x\n"), ServerState::Stale(0));
    // Our own PID is alive but not a postgres process.
    let me = std::process::id() as i32;
    let text = format!("{me}\n/data\n1700000000\n5432\n/run\n\n  1  2\nready   \n");
    assert_eq!(server_state_from_pid_file(&text), ServerState::Stale(me));
}

#[test]
fn half_written_pid_file_means_busy() {
    assert_eq!(server_state_from_pid_file(""), ServerState::Busy);
}

#[test]
fn private_dirs_are_made_private_and_a_planted_one_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let me = RunAs::CurrentUser;
    let fresh = tmp.path().join("fresh");
    make_private_dir(&fresh, me).unwrap();
    let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    make_private_dir(&fresh, me).unwrap(); // ours already: fine

    // Pre-created open to all (as another local user would plant it): refused, not reused.
    let planted = tmp.path().join("planted");
    fs::create_dir(&planted).unwrap();
    fs::set_permissions(&planted, fs::Permissions::from_mode(0o777)).unwrap();
    let e = make_private_dir(&planted, me).unwrap_err();
    assert!(e.to_string().contains("others may enter it"), "{e}");

    // A link to a private directory: refused, never followed.
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&fresh, &link).unwrap();
    let e = make_private_dir(&link, me).unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");

    // Someone else's (only root can make one here).
    if nix::unistd::geteuid().is_root() {
        let theirs = tmp.path().join("theirs");
        fs::create_dir(&theirs).unwrap();
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let e = make_private_dir(&theirs, me).unwrap_err();
        assert!(e.to_string().contains("belongs to uid 65534"), "{e}");
    }
}

#[test]
fn long_base_paths_get_a_short_socket_dir() {
    let long = PathBuf::from("/").join("x".repeat(120));
    let paths = ClusterPaths::new(&long);
    assert!(paths.socket_dir.starts_with(std::env::temp_dir()));
    assert!(paths.socket_dir.as_os_str().len() + 15 <= MAX_SOCKET_PATH);
    let short = ClusterPaths::new("/tmp/sb");
    assert_eq!(short.socket_dir, PathBuf::from("/tmp/sb/run"));
}

#[test]
fn versioned_dirs_sort_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["9.6", "15", "16", "notaversion"] {
        fs::create_dir_all(dir.path().join(v).join("bin")).unwrap();
    }
    let found = versioned_dirs(dir.path().to_str().unwrap(), "", "bin");
    let names: Vec<_> = found
        .iter()
        .map(|p| p.parent().unwrap().file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["16", "15", "9.6"]);
}

/// As root, with a data directory the postgres user cannot reach, the cluster goes under the
/// fallback holder, and its directory is then made private and the server user's (it was made
/// root's, and refused as such, on every first start). An empty one left that way is made again.
#[test]
fn roots_cluster_outside_a_private_home_is_the_server_users() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Ok(run_as @ RunAs::System { uid, .. }) = RunAs::detect() else {
        return; // only root runs the server as another user
    };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    fs::DirBuilder::new().mode(0o700).create(&home).unwrap();
    // The holder's parents must let the postgres user through, as /var/lib does.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let fallback = tmp.path().join("clusters");
    let data_dir = home.join(".local/share/switchboard");

    let paths = ClusterPaths::for_data_dir_in(&data_dir, run_as, &fallback).unwrap();
    assert!(paths.base.starts_with(&fallback), "{:?}", paths.base);
    make_private_dir(&paths.base, run_as).unwrap();
    let meta = fs::metadata(&paths.base).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (uid, 0o700));

    // Left by the earlier build: empty and root's. Given to the server's user, closed.
    fs::remove_dir(&paths.base).unwrap();
    fs::DirBuilder::new()
        .mode(0o755)
        .create(&paths.base)
        .unwrap();
    let again = ClusterPaths::for_data_dir_in(&data_dir, run_as, &fallback).unwrap();
    make_private_dir(&again.base, run_as).unwrap();
    let meta = fs::metadata(&again.base).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (uid, 0o700));

    // Root's and not empty: left alone, and refused as before.
    fs::remove_dir(&again.base).unwrap();
    fs::create_dir(&again.base).unwrap();
    fs::write(again.base.join("planted"), "").unwrap();
    let third = ClusterPaths::for_data_dir_in(&data_dir, run_as, &fallback).unwrap();
    assert!(make_private_dir(&third.base, run_as).is_err());
}
