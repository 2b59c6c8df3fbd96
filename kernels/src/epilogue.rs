//! What a kernel applies to each accumulated sum before storing it.

/// The activation applied after the bias.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// SiLU (swish): `x / (1 + exp(-x))`, what MixNet uses.
    Silu,
    /// HardSwish: `x * min(max(x + 3, 0), 6) / 6`.
    HardSwish,
}

impl Activation {
    /// Every activation, for tests and command-line parsing.
    pub const ALL: [Activation; 5] = [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::Silu,
        Activation::HardSwish,
    ];

    /// The lowercase name (`none`, `relu`, `relu6`, `silu`, `hardswish`).
    pub const fn name(self) -> &'static str {
        match self {
            Activation::None => "none",
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
            Activation::Silu => "silu",
            Activation::HardSwish => "hardswish",
        }
    }

    /// Parses a name as given by [`Activation::name`].
    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// The fused epilogue: `clamp(activation(sum + bias), min, max)`.
///
/// The bias is packed with the weights; this holds what comes after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epilogue {
    /// Applied to `sum + bias`.
    pub activation: Activation,
    /// Lower clamp bound (`-inf` for none).
    pub min: f32,
    /// Upper clamp bound (`+inf` for none).
    pub max: f32,
}

impl Default for Epilogue {
    fn default() -> Self {
        Epilogue {
            activation: Activation::None,
            min: f32::NEG_INFINITY,
            max: f32::INFINITY,
        }
    }
}
