import Logging
import MeeseeksConfig
import ServiceLifecycle

/// `meeseeks serve --watch`: reloads when a file the configuration is read from appears, changes
/// or goes away. It polls file stamps (name, size, modification time, inode) once a second rather
/// than using inotify: it is portable, sees directories that are replaced whole (as `kubectl`
/// ConfigMap mounts are), and costs a `stat` per file. A change is acted on once the files have
/// stopped changing for a moment, so a half-copied directory is not loaded.
struct ConfigWatcher: Service {
    let directory: String
    let holder: ConfigHolder
    let reloader: ConfigReloader
    let logger: Logger
    var interval: Duration = .seconds(1)
    var settle: Duration = .milliseconds(300)

    func run() async {
        await cancelWhenGracefulShutdown {
            var seen = scan()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let now = scan()
                guard now != seen else { continue }
                try? await Task.sleep(for: settle)
                guard scan() == now else { continue }  // still being written: look again next round
                seen = now
                logger.info("configuration files changed: reloading")
                await reloader.reload(reason: "watch")
            }
        }
    }

    /// The stamps of every file a load would read, by path.
    func scan() -> [String: ConfigFile.Stamp] {
        let folders = ConfigLoader.folders(in: directory, paths: holder.snapshot.configuration.settings.paths)
        var paths = ConfigLoader.settingsFiles(in: directory)
        for folder in [folders.commands, folders.policies] {
            if case .success(let files) = ConfigFile.yamlFiles(in: folder) { paths += files }
        }
        var stamps: [String: ConfigFile.Stamp] = [:]
        for path in paths {
            if let stamp = ConfigFile.stamp(path) { stamps[path] = stamp }
        }
        return stamps
    }

}
