//! `sim`: the simulated IOC over HTTP.

use std::path::PathBuf;
use std::process::ExitCode;

use super::runtime;

#[derive(clap::Args)]
pub struct SimArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    #[arg(long, default_value_t = 2607)]
    pub seed: u64,
    /// Start a training scenario.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Speed of simulated time, 1 to 60.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Require this bearer token (read from the file).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Fixed simulated start time (RFC 3339), for identical runs.
    #[arg(long)]
    pub epoch: Option<chrono::DateTime<chrono::Utc>>,
    /// Base URL of the simulated cameras' streams (ignored with --serve-cameras).
    #[arg(long, default_value = "rtsp://127.0.0.1:8554")]
    pub camera_base: String,
    /// Serve the demo cameras over RTSP on loopback (H.264 main and sub streams, one MJPEG).
    #[arg(long)]
    pub serve_cameras: bool,
    /// Start with simulated time stopped (resume with POST /sim/control).
    #[arg(long)]
    pub paused: bool,
    /// Background incidents arrive this many times as often as in the demo data (a busy day
    /// for a soak test).
    #[arg(long, default_value_t = 1.0)]
    pub arrivals: f64,
    /// The API key Open311 updates must carry (read from the file); the incidents are also
    /// served as an Open311 GeoReport v2 server under /open311/v2.
    #[arg(long)]
    pub open311_key_file: Option<PathBuf>,
    /// Be a resource server of this OpenID Connect issuer: an action must carry an access token
    /// (JWT) signed by its keys, for `--audience`, holding the operator role (else 401 or 403
    /// with the reason).
    #[arg(long)]
    pub issuer: Option<String>,
    /// The audience access tokens must be for (with --issuer).
    #[arg(long, default_value = "ioc-backend")]
    pub audience: String,
    /// The claim holding the roles, a path with dots (with --issuer).
    #[arg(long, default_value = "realm_access.roles")]
    pub roles_claim: String,
    /// The claim value that makes an operator (with --issuer; repeat for several).
    #[arg(long, default_value = "ioc-operator")]
    pub operator_role: Vec<String>,
}

pub fn sim(args: SimArgs) -> ExitCode {
    let token = match crate::sources::client::read_token(args.token_file.as_deref()) {
        Ok(t) if args.token_file.is_some() => t,
        Ok(_) => None,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let open311_key = match &args.open311_key_file {
        Some(p) => match crate::sources::external::read_key(p) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let rt = match runtime(true) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let config = crate::sim::SimConfig {
        listen: args.listen,
        seed: args.seed,
        epoch: args.epoch,
        scenario: args.scenario,
        speed: args.speed.clamp(1.0, 60.0),
        paused: args.paused,
        token,
        camera_base: args.camera_base,
        serve_cameras: args.serve_cameras,
        arrivals: args.arrivals,
        open311_key,
        resource: args
            .issuer
            .map(|issuer| crate::sim::resource::ResourceConfig {
                audience: args.audience,
                roles_claim: args.roles_claim,
                operator_roles: args.operator_role,
                ..crate::sim::resource::ResourceConfig::new(issuer)
            }),
    };
    rt.block_on(async {
        match crate::sim::SimServer::start(config).await {
            Ok(server) => {
                println!("{}", server.base_url());
                let _ = tokio::signal::ctrl_c().await;
                server.stop().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot start the simulator: {e}");
                ExitCode::from(1)
            }
        }
    })
}
