//! The input tensor a plan runs on: batch, height, width and pixel strides.

/// The NHWC tensors a layer runs on.
///
/// Pixel strides default to the layer's channel count. A larger stride lets the layer read
/// (or write) a channel slice of a wider tensor, e.g. to concatenate outputs without copies:
/// pass the slice that starts at the first channel of the first pixel.
///
/// ```
/// use mixconv::Shape;
/// let shape = Shape::new(1, 56, 56).input_pixel_stride(256).output_pixel_stride(512);
/// assert_eq!(shape.height, 56);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Images in the batch.
    pub batch: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Elements between consecutive input pixels (`None`: the layer's channels).
    pub input_pixel_stride: Option<usize>,
    /// Elements between consecutive output pixels (`None`: the layer's channels).
    pub output_pixel_stride: Option<usize>,
}

impl Shape {
    /// A batch of `batch` images of `height`×`width` pixels, densely packed.
    pub fn new(batch: usize, height: usize, width: usize) -> Self {
        Shape {
            batch,
            height,
            width,
            input_pixel_stride: None,
            output_pixel_stride: None,
        }
    }

    /// Reads input pixels `stride` elements apart.
    pub fn input_pixel_stride(mut self, stride: usize) -> Self {
        self.input_pixel_stride = Some(stride);
        self
    }

    /// Writes output pixels `stride` elements apart; elements between them are left untouched.
    pub fn output_pixel_stride(mut self, stride: usize) -> Self {
        self.output_pixel_stride = Some(stride);
        self
    }
}
