"""ros2 launch partrm bridge.launch.py [model:=...] [output_dir:=...] [image_topic:=...] ...

The same launch as the XML file `bridge` beside it: the partrm bridge node with its parameters.
"""
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

# name, default, description (web_port is an integer, the rest strings)
ARGUMENTS = [
    ('model', 'default', 'model directory, manifest.json or .onnx (default: the shipped model)'),
    ('output_dir', '/tmp/partrm_bridge', 'per-request outputs (request-NNNNNN/)'),
    ('sim_backend', 'local', 'simulation backend: local (MuJoCo in-process) or listen:PORT'),
    ('simulate', 'none', 'none, or evaluate: roll each URDF out in simulation and publish ~/policy'),
    ('image_topic', '/camera/image_raw', 'sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8)'),
    ('camera_info_topic', '/camera/camera_info', 'sensor_msgs/CameraInfo'),
    ('drags_topic', '~/drags', 'partrm/msg/DragArray'),
    ('drags_json_topic', '~/drags_json', 'std_msgs/String JSON drags'),
    ('frame_id', 'world', 'frame of the published Gaussians and markers'),
    ('web_host', '127.0.0.1', 'operator page address'),
    ('web_port', '8080', 'operator page port (-1: no page)'),
]


def generate_launch_description():
    parameters = {
        name: ParameterValue(LaunchConfiguration(name), value_type=int if name == 'web_port' else str)
        for name, _default, _description in ARGUMENTS
    }
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description) for name, default, description in ARGUMENTS]
        + [
            Node(
                package='partrm',
                executable='bridge',
                name='partrm_bridge',
                output='screen',
                parameters=[parameters],
            )
        ]
    )
