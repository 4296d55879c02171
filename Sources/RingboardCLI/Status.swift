import ArgumentParser
import Foundation
import RingboardRing

extension RingboardCommand {
    /// `ringboard status`: the live rings of a ring directory.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the rings of a ring directory: producers, lag, records/s, spills and drops, or why a ring is damaged; and the weight segments beside them.",
            discussion: """
                Examples:
                  ringboard status
                  ringboard status --ring-dir /tmp/rings --interval 5
                """
        )

        @Option(help: "The ring directory.")
        var ringDir = RingDirectory.defaultPath

        @Option(help: "Seconds between the two looks that give records/s.")
        var interval = 1.0

        func validate() throws {
            guard interval > 0, interval <= 60 else { throw ValidationError("--interval must be between 0 and 60 seconds") }
        }

        func run() throws {
            let first: [RingStatus]
            guard FileManager.default.fileExists(atPath: ringDir) else {
                printError("status", "no ring directory at \(ringDir): no trainer has made one there yet (pass the --ring-dir your trainers use)")
                throw ExitCode(2)
            }
            do {
                first = try RingStatus.all(in: ringDir)
            } catch {
                printError("status", error.description)
                throw ExitCode(2)
            }
            print(Status.aggregatorLine(ringDir))
            guard !first.isEmpty else {
                print("\(ringDir): no rings")
                return
            }
            usleep(UInt32(interval * 1_000_000))
            let second = (try? RingStatus.all(in: ringDir)) ?? []
            print("\(ringDir): \(second.count) ring\(second.count == 1 ? "" : "s")")
            print("ring                      producer  state    lag         records/s  consumed   spilled  dropped")
            for ring in second {
                if let damage = ring.damage {
                    print(ring.name.padding(toLength: 26, withPad: " ", startingAt: 0) + String(ring.producerID).padding(toLength: 10, withPad: " ", startingAt: 0)
                          + "damaged: " + damage)
                    continue
                }
                // In Double: counters read from a file need not be ones a subtraction survives.
                let before = first.first { $0.name == ring.name && $0.damage == nil }
                let rate = before.map { (Double(ring.consumedRecords) - Double($0.consumedRecords)) / interval } ?? 0
                let state = ring.closed ? "closed" : (ring.producerAlive ? "live" : "gone")
                print(ring.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                      + String(ring.producerID).padding(toLength: 10, withPad: " ", startingAt: 0)
                      + state.padding(toLength: 9, withPad: " ", startingAt: 0)
                      + InspectText.bytes(ring.lag).padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "%-11.0f", rate)
                      + String(ring.consumedRecords).padding(toLength: 11, withPad: " ", startingAt: 0)
                      + String(ring.spilledRecords).padding(toLength: 9, withPad: " ", startingAt: 0)
                      + String(ring.droppedRecords))
            }
            for line in Status.weightSegmentLines(ringDir) { print(line) }
        }

        /// Per ring with weight segments beside it: how many, and their bytes, and its spares'.
        static func weightSegmentLines(_ ringDir: String) -> [String] {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: ringDir) else { return [] }
            var segments: [String: (count: Int, bytes: Int64)] = [:], spares: [String: (count: Int, bytes: Int64)] = [:]
            for name in names {
                let size = ((try? FileManager.default.attributesOfItem(atPath: ringDir + "/" + name))?[.size] as? NSNumber)?.int64Value ?? 0
                if let (ring, _) = WeightSegment.parse(fileName: name) {
                    segments[ring, default: (0, 0)].count += 1
                    segments[ring, default: (0, 0)].bytes += size
                } else if let ring = WeightSegment.parseSpare(fileName: name) {
                    spares[ring, default: (0, 0)].count += 1
                    spares[ring, default: (0, 0)].bytes += size
                }
            }
            return Set(segments.keys).union(spares.keys).sorted().map { ring in
                let (count, bytes) = segments[ring] ?? (0, 0), (spareCount, spareBytes) = spares[ring] ?? (0, 0)
                return "weight segments of \(ring): \(count) (\(InspectText.bytes(bytes))), spares \(spareCount) (\(InspectText.bytes(spareBytes)))"
            }
        }

        /// Who serves the ring directory: the aggregator's process, log root and who started it.
        static func aggregatorLine(_ ringDir: String) -> String {
            guard RingDirectory.isServed(ringDir) else {
                let everServed = FileManager.default.fileExists(atPath: ringDir + "/" + RingDirectory.consumerLockName)
                return "aggregator: none serves \(ringDir)" + (everServed ? "" : " (none has served it yet)")
            }
            guard let info = AggregatorInfo.read(in: ringDir) else { return "aggregator: serving (it says nothing of itself)" }
            let root = info.logRoot.map { "log root \($0)" } ?? "no log root (each run in its log_dir)"
            let starter = info.startedBy.map { "started by trainer \($0)" } ?? "started by hand"
            return "aggregator: pid \(info.processID), \(root), \(starter)" + (info.logFile.map { ", log \($0)" } ?? "")
        }
    }
}
