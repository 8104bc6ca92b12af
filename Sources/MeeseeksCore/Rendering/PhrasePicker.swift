public import MeeseeksConfig

/// Picks one of the persona's phrases for a moment. Renderers receive the picker, so tests can
/// fix the choice while the box picks at random.
public struct PhrasePicker: Sendable {
    public let persona: Persona
    let choose: @Sendable (Int) -> Int

    public init(persona: Persona, choose: @escaping @Sendable (Int) -> Int = { Int.random(in: 0..<$0) }) {
        self.persona = persona
        self.choose = choose
    }

    /// The first phrase, always: for tests and snapshots.
    public static func first(_ persona: Persona) -> PhrasePicker {
        PhrasePicker(persona: persona) { _ in 0 }
    }

    public func phrase(_ moment: Persona.Moment) -> String {
        let phrases = persona.phrases(for: moment)
        return phrases[min(phrases.count - 1, max(0, choose(phrases.count)))]
    }
}
