// recalign: the command-line entry point; each subcommand lives in its own file.
import ArgumentParser

@main
struct RecAlign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recalign",
        abstract: "Realign text encoders to recommendation data (BERT in Swift over OpenBLAS).",
        version: "0.1.0",
        subcommands: [Encode.self, Evaluate.self, Export.self, Retrieve.self, Train.self, TrainHead.self, Rerank.self])
}
