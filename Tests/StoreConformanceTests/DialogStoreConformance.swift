import MeeseeksCore
import Testing

/// `DialogStore`: dialogs saved whole and sealed; the waiting ones found when idle.
@Suite("DialogStore conformance", .closesStores)
struct DialogStoreConformance {

    func dialog(_ id: String, phase: Dialog.Phase = .menu, updatedAt: Double) -> Dialog {
        var dialog = Dialog(id: id, user: "U1", channel: "C1", now: 1)
        dialog.phase = phase
        dialog.updatedAt = updatedAt
        return dialog
    }

    @Test("a dialog reads back whole; a save replaces it; an unknown one is nil", arguments: StoreFactory.all)
    func saveAndRead(_ factory: StoreFactory) throws {
        let store = try factory.make()
        var full = Dialog(id: "slack:C1:1.2", user: "U1", channel: "C1", now: 10.5)
        full.phase = .prompting("password")
        full.command = "deploy"
        full.answers = ["env": "stg", "password": "hunter2 ü\n"]
        full.typed = true
        full.skipped = ["note"]
        full.selector = "env in (stg)"
        full.targets = ["a1", "a2"]
        full.step = 3
        full.codeFailures = 1
        full.jobID = 42
        full.transport = ["kind": "slack", "ts": "1.2"]
        try store.save(full)
        #expect(try store.dialog(full.id) == full)
        full.phase = .running(jobID: 42)
        full.updatedAt = 20
        try store.save(full)
        #expect(try store.dialog(full.id) == full)
        #expect(try store.dialog("nope") == nil)
    }

    @Test(
        "idle dialogs are the waiting ones (interactive phases) saved before the time, oldest first",
        arguments: StoreFactory.all)
    func idleDialogs(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.save(dialog("menu", phase: .menu, updatedAt: 30))
        try store.save(dialog("prompting", phase: .prompting("x"), updatedAt: 10))
        try store.save(dialog("confirming", phase: .confirming, updatedAt: 20))
        try store.save(dialog("code", phase: .awaitingCode, updatedAt: 40))
        try store.save(dialog("submitted", phase: .submitted, updatedAt: 1))
        try store.save(dialog("running", phase: .running(jobID: 1), updatedAt: 1))
        try store.save(dialog("finished", phase: .finished, updatedAt: 1))
        try store.save(dialog("recent", phase: .menu, updatedAt: 100))
        #expect(try store.idleDialogs(before: 100, limit: 10) == ["prompting", "confirming", "menu", "code"])
        #expect(try store.idleDialogs(before: 40, limit: 10) == ["prompting", "confirming", "menu"])  // strictly before
        #expect(try store.idleDialogs(before: 100, limit: 2) == ["prompting", "confirming"])
        #expect(try store.idleDialogs(before: 100, limit: 0).isEmpty)
        #expect(try store.idleDialogs(before: 5, limit: 10).isEmpty)
        // Answered: saved again later, or no longer waiting.
        try store.save(dialog("prompting", phase: .prompting("y"), updatedAt: 200))
        try store.save(dialog("confirming", phase: .finished, updatedAt: 20))
        #expect(try store.idleDialogs(before: 100, limit: 10) == ["menu", "code"])
    }

    @Test("dialogs are sealed bound to dialog:<id>; another key cannot open them", arguments: StoreFactory.all)
    func sealed(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        let sealer = RecordingSealer()
        let store = try database.open(sealer: sealer)
        try store.save(dialog("d1", updatedAt: 10))
        #expect(try store.dialog("d1")?.id == "d1")
        #expect(sealer.calls == ["seal dialog:d1", "open dialog:d1"])
        let stranger = try database.open(sealer: strangerSealer)
        #expect(throws: SealError.unreadable) { try stranger.dialog("d1") }
        #expect(try stranger.idleDialogs(before: 100, limit: 10) == ["d1"])  // listing needs no key
    }

    @Test("a store without the key refuses to save or read dialogs", arguments: StoreFactory.all)
    func withoutKey(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        try database.open().save(dialog("d1", updatedAt: 10))
        let keyless = try database.open(sealer: nil)
        #expect(throws: SealError.self) { try keyless.save(dialog("d2", updatedAt: 10)) }
        #expect(throws: SealError.self) { try keyless.dialog("d1") }
        #expect(try keyless.dialog("d2") == nil)
        #expect(try keyless.idleDialogs(before: 100, limit: 10) == ["d1"])
    }
}
