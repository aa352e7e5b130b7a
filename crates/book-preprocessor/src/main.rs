//! `book-preprocessor`: see the library documentation and `book-preprocessor help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match book_preprocessor::cli::run(
        &args,
        std::io::stdin().lock(),
        std::io::stdout().lock(),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // mdBook shows the preprocessor's stderr; `{:#}` keeps the whole cause chain on it.
            eprintln!("book-preprocessor: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
