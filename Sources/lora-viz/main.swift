import LoRAKernels
print("lora-viz")
