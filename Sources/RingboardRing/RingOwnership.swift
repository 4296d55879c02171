internal import RingboardSystem
import Glibc
import Synchronization
internal import CRingboard

/// Which thread of the producer process may claim ring space without a compare-and-swap.
///
/// The first thread to append owns the ring: it moves tail with a plain (releasing) store, and
/// checks the consumer's doorbell with no fence, so an append takes no locked instruction. Any
/// other thread that arrives takes the ring over (`settle`): it marks the ring as being taken,
/// has every thread of the process pass a full barrier (`membarrier`, the slow side of an
/// asymmetric fence whose fast side is the owner's compiler-only barrier), and waits until the
/// owner is out of any append it began. It then owns the ring itself, with the next generation;
/// after `generations - 1` such hand-overs (threads that keep taking turns) the ring is shared
/// for good, and every thread claims with a compare-and-swap, as before ownership existed.
///
/// Why a hand-over is safe (the Dekker pair, with the barrier standing in for the fences):
/// the owner stores its generation's "in append" flag, then (compiler barrier) loads the owner
/// word again, and claims only if it still names it. The taker stores "taking" into the owner
/// word, then runs `membarrier`, then loads the flag. The barrier runs on the owner's CPU either
/// before the owner's load (the owner sees "taking" and backs off) or after its store (the taker
/// sees the flag set and waits for the releasing store that clears it, which follows the owner's
/// last store of tail). Each generation has its own flag, so a former owner that backs off late
/// never clears the flag of the thread that owns the ring now.
///
/// Where membarrier is missing (kernels before 4.16, seccomp filters in containers) the ring is
/// shared from the start.
@usableFromInline
final class RingOwnership: @unchecked Sendable {
    /// The owner word: `unclaimed`, `taking`, `shared`, or an owning thread (its `pthread_t`,
    /// 8-byte aligned) with its generation in the low bits.
    @usableFromInline let owner: Atomic<UInt>
    /// Per generation: the owner of that generation is inside an append.
    @usableFromInline let inAppend: InlineArray<8, Atomic<Bool>>
    /// Serializes claims of ownership and hand-overs (never taken by an owner's append).
    private let handOver = Mutex(())

    /// Generations: how many threads in turn may own the ring before it is shared.
    @usableFromInline static let generations: UInt = 8
    @usableFromInline static let generationMask: UInt = generations - 1
    /// No thread has appended yet.
    @usableFromInline static let unclaimed: UInt = 0
    /// Every thread claims with a compare-and-swap.
    @usableFromInline static let shared: UInt = 1
    /// A thread is taking the ring over; others wait for it in `settle`.
    @usableFromInline static let taking: UInt = 2

    /// - Parameter enabled: Whether a thread may own the ring; only when the process could
    ///   register for membarrier (`Membarrier.ownedAppendsAvailable`).
    init(enabled: Bool) {
        owner = Atomic(enabled ? RingOwnership.unclaimed : RingOwnership.shared)
        inAppend = InlineArray { _ in Atomic(false) }
    }

    /// This thread's identity as the owner word holds it.
    @inlinable @inline(__always)
    static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: pthread_self())) }

    /// Whether `word` names `thread` as the owner (of any generation). Never true for the three
    /// states, which are below any thread's address.
    @inlinable @inline(__always)
    static func names(_ word: UInt, _ thread: UInt) -> Bool {
        word & ~generationMask == thread
    }

    /// Whether the ring is shared for good.
    var isShared: Bool { owner.load(ordering: .acquiring) == RingOwnership.shared }

    /// The generation of the current owner, or `nil` when none owns the ring.
    var ownerGeneration: Int? {
        let word = owner.load(ordering: .acquiring)
        return word > RingOwnership.taking ? Int(word & RingOwnership.generationMask) : nil
    }

    /// Settles who claims next, for a thread that is not the owner: claims an unclaimed ring,
    /// takes an owned one over, or finds it shared.
    ///
    /// - Parameter thread: `currentThread`.
    /// - Returns: The owner word: `thread`'s own (then it claims as the owner, checking the word
    ///   again, as a later taker may have come in between) or `shared`.
    @usableFromInline @inline(never)
    func settle(thread: UInt) -> UInt {
        // acquiring: pairs with the releasing store of `shared` below, so that the last owner's
        // stores of tail are seen before this thread's compare-and-swap on it.
        if owner.load(ordering: .acquiring) == RingOwnership.shared { return RingOwnership.shared }
        return handOver.locked { _ in
            // acquiring: pairs with the releasing stores of the owner word below.
            let word = owner.load(ordering: .acquiring)
            if word == RingOwnership.shared || RingOwnership.names(word, thread) { return word }
            // A thread whose identity does not leave room for the generation can never own.
            let canOwn = thread & RingOwnership.generationMask == 0
            if word == RingOwnership.unclaimed {
                let next = canOwn ? thread : RingOwnership.shared
                // releasing: pairs with the acquiring loads of the owner word above.
                owner.store(next, ordering: .releasing)
                return next
            }
            // Another thread owns the ring. relaxed: the membarrier below orders this store
            // before the flag load, on every thread.
            owner.store(RingOwnership.taking, ordering: .relaxed)
            let status = CRingboard_membarrier_private()
            precondition(status == 0, "membarrier failed (\(status)) after registering")
            let generation = Int(word & RingOwnership.generationMask)
            var spins = 0
            // acquiring: pairs with the owner's releasing store of false at the end of its append
            // (RingWriter.tryClaimOwned), after its last store of tail.
            while inAppend[generation].load(ordering: .acquiring) {
                spins += 1
                if spins > 100 { sched_yield() }
            }
            let last = UInt(generation) + 1 == RingOwnership.generations
            let next = canOwn && !last ? thread | UInt(generation + 1) : RingOwnership.shared
            // releasing: pairs with the acquiring loads of the owner word (here and in the
            // compare-and-swap path), publishing the former owner's tail.
            owner.store(next, ordering: .releasing)
            return next
        }
    }
}

/// This process's registration for membarrier(2), made once.
enum Membarrier {
    /// What registering made available (`CRingboard_membarrier_*` bits).
    static let registered: Int32 = CRingboard_membarrier_register()

    /// Whether a producer thread may own its ring: the process can fence its own threads (for
    /// hand-overs), and consumers' fences reach it (for the doorbell).
    static var ownedAppendsAvailable: Bool {
        let needed = Int32(CRingboard_membarrier_private_available | CRingboard_membarrier_global_registered)
        return registered & needed == needed
    }

    /// Has every running thread of every registered producer process pass a full barrier: the
    /// consumer's side of the doorbell pair with owned appends, which look at the doorbell with no
    /// fence after their plain store of tail. Without membarrier in the consumer's process, an
    /// owned append may miss a consumer falling asleep: the record waits (never lost) until the
    /// consumer's bounded wait ends.
    static func fenceProducers() {
        _ = CRingboard_membarrier_global()
    }
}
