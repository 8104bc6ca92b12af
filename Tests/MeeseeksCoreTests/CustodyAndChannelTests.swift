import MeeseeksCore
import Testing

@Suite("Job secrets' encoding and the bounded channel")
struct CustodyAndChannelTests {
    @Test(
        "secrets round-trip whatever they hold",
        arguments: [
            JobSecrets(arguments: ["password": "hunter2"], code: "123456"),
            JobSecrets(arguments: ["a b": "line\nbreak %41 100%", "ü": "ünïcødé ☃", "empty": ""]),
            JobSecrets(code: " 12 34 56 "),
            JobSecrets(arguments: ["x": "\u{0}\u{1}\t\r"]),
        ])
    func roundTrip(_ secrets: JobSecrets) {
        #expect(JobSecrets(decoding: secrets.encoded) == secrets)
    }

    @Test("garbage does not decode into secrets", arguments: ["a onlyname", "z what", "c %G1", "a %4 x"])
    func garbage(_ text: String) {
        #expect(JobSecrets(decoding: Array(text.utf8)) == nil)
    }

    @Test("a full channel makes the sender wait until the receiver takes, in order")
    func backPressure() async {
        let channel = BoundedChannel<Int>(capacity: 2)
        #expect(await channel.send(1))
        #expect(await channel.send(2))
        #expect(!channel.trySend(3))  // full
        let third = Task { await channel.send(3) }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(channel.used == 2)  // the third still waits
        #expect(await channel.next() == 1)
        #expect(await third.value)
        #expect(await channel.next() == 2)
        #expect(await channel.next() == 3)
        channel.finish()
        #expect(await channel.next() == nil)
        #expect(!(await channel.send(4)))
    }

    @Test("finishing releases waiting senders and the receiver")
    func finishReleasesEveryone() async {
        let channel = BoundedChannel<[UInt8]>(capacity: 4) { $0.count }
        #expect(await channel.send([1, 2, 3, 4]))
        let blocked = Task { await channel.send([5]) }
        let waiting = Task { () -> [[UInt8]] in
            var got: [[UInt8]] = []
            for await chunk in channel { got.append(chunk) }
            return got
        }
        try? await Task.sleep(for: .milliseconds(50))
        channel.finish()
        _ = await blocked.value
        let got = await waiting.value
        #expect(got.first == [1, 2, 3, 4])
    }
}
