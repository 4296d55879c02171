import Foundation
import RingboardTestSupport
import Testing

/// TensorBoard's UI over the demo's log directory, in a real browser (headless Chromium, on a
/// loopback port), read from the page's DOM (`Tests/Conformance/dashboard_check.py`): the scalars
/// dashboard lists the demo's runs and tags, and an image card shows a weight image. Without
/// Chromium or .venv the test fails, saying to run Scripts/setup.sh; it is never skipped.
@Suite struct DashboardTests {
    static let checker = packageRoot + "/Tests/Conformance/dashboard_check.py"

    @Test func theDemoShowsItsRunsTagsAndWeightImages() throws {
        try GraphsDashboardTests.requireTools()
        let directory = TemporaryDirectory("ringboard-dashboards")
        let logdir = directory.appending("logs")
        let demo = try run(GraphsDashboardTests.ringboard, ["demo", "--logdir", logdir, "--procs", "2", "--epochs", "2", "--steps", "6"],
                           timeout: 300)
        #expect(demo.status == 0, "\(demo.standardOutput)\n\(demo.standardError)")
        let check = try run(venvPython, [
            Self.checker, "--logdir", logdir, "--runs", "rank_0/train,rank_0/validation,rank_1/train,rank_1/validation",
            "--tags", "batch_loss,epoch_loss,epoch_accuracy", "--image-tag", "dense/kernel_0/image/0",
            "--screenshots", directory.appending("shots"), "--dashboards", "scalars,images", "--timeout", "180",
        ], timeout: 240)
        #expect(check.status == 0, "\(check.standardOutput)\n\(check.standardError)")
        #expect(check.standardOutput.contains("scalars lists 4 runs and 3 tags; images shows"), "\(check.standardOutput)")
        for name in ["scalars", "images"] {
            #expect(FileManager.default.fileExists(atPath: directory.appending("shots/\(name).png")), "no \(name) screenshot")
        }
    }
}
