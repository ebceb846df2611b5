// recalign: the command-line entry point; each subcommand lives in its own file.
import ArgumentParser
import Foundation
import RecAlignTensor

@main
struct RecAlign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalign",
        abstract: "Realign text encoders to recommendation data (BERT in Swift over OpenBLAS).",
        discussion: """
        Under mpirun / srun every rank runs the same command: train and train-head are data-parallel, encode, \
        export and evaluate shard their texts and users; rank 0 writes the files, the log and the progress bar.
        """,
        version: "0.1.0",
        subcommands: [Encode.self, Merge.self, Evaluate.self, Export.self, Retrieve.self, Train.self, TrainHead.self, Rerank.self, Generate.self, Chat.self])

    /// ArgumentParser's entry, with MPI around it: started before parsing when an MPI launcher runs us,
    /// finalised after; ranks above 0 keep quiet on stdout; a failure on any rank ends the whole job.
    static func main() async {
        FloatEnvironment.enter()   // before any thread is started: every thread after inherits the mode
        if let layout = Cluster.start() {
            if !Cluster.isRoot { _ = freopen("/dev/null", "w", stdout) }
            noteEveryRank(layout)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
        } catch {
            if Cluster.isDistributed {
                let code = exitCode(for: error)
                if code != .success {
                    FileHandle.standardError.write(Data(("rank \(Cluster.rank): " + fullMessage(for: error) + "\n").utf8))
                    Cluster.abort(code.rawValue)
                }
            }
            Cluster.finish()
            exit(withError: error)
        }
        Cluster.finish()
    }
}
